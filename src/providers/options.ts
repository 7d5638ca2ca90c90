// Every provider type's check of its `options` block, for validating the configuration
// file as a whole before any provider is built. Each entry is the provider's own schema
// (its light options module: zod and pure parsing, never its SDK), so validating a file
// that names aws loads no AWS client, and config/ needs to know no provider's options.
import type { z } from 'zod';
import { zodIssues, type ProviderOptionsCheck, type ProviderOptionsChecks } from '../config/config.js';
import { awsOptionsSchema } from './aws/options.js';
import { gceOptionsSchema } from './gce/options.js';
import { localOptionsSchema } from './local/options.js';
import { memoryOptionsSchema } from './memory/options.js';
import { MetalConfigError, parseMetalOptions } from './metal/options.js';

const schemaCheck =
  (schema: z.ZodType): ProviderOptionsCheck =>
  (options) => {
    const r = schema.safeParse(options);
    return r.success ? [] : zodIssues(r.error);
  };

// Metal's pools are checked beyond their schema (entries parse, no two ranges overlap).
const metalCheck: ProviderOptionsCheck = (options) => {
  try {
    parseMetalOptions(options);
    return [];
  } catch (e) {
    if (e instanceof MetalConfigError) return e.issues;
    throw e;
  }
};

export const builtinOptionsChecks: ProviderOptionsChecks = {
  memory: schemaCheck(memoryOptionsSchema),
  local: schemaCheck(localOptionsSchema),
  aws: schemaCheck(awsOptionsSchema),
  gce: schemaCheck(gceOptionsSchema),
  metal: metalCheck,
};
