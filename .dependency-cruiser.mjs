// The floors of src/ (DESIGN.md, "Layout and floors"), top to bottom:
//
//   cli → install, observability → controller → providers → model → config → kube, devcluster
//
// A floor imports from the floors below it, never from one above, and folders on the same
// floor do not import each other. `npm run lint` runs these rules over src after eslint,
// so a wrong import fails CI. test/layering.test.ts shows each kind of rule failing on a
// deliberately wrong import.
//
// Today's exceptions are listed here, each with the change that removes it, plus the
// import circles inside a single folder recorded in .dependency-cruiser-known-violations.json
// (`--ignore-known`): a new circle of either kind fails.

const ORDER = [['cli'], ['install', 'observability'], ['controller'], ['providers'], ['model'], ['config'], ['kube', 'devcluster']];

/** For each folder, the folders it must not import: every floor above its own, and its floor-mates. */
const FLOORS = ORDER.flatMap((floor, i) =>
  floor.map((folder) => ({
    folder,
    forbidden: [...ORDER.slice(0, i).flat(), ...floor.filter((mate) => mate !== folder)],
  })),
).filter((f) => f.forbidden.length > 0);

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...FLOORS.map(({ folder, forbidden }) => ({
      name: `floor-${folder}`,
      comment: `src/${folder} imports only from the floors below it, not from src/${forbidden.join(', src/')}`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: {
        path: `^src/(${forbidden.join('|')})/`,
      },
    })),
    {
      name: 'no-circular-across-folders',
      comment:
        'No import circle spans two folders of src: one that does ties floors together, so neither can be understood, ' +
        'tested or loaded without the other (the 44-module circle through controller, providers and observability did).',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { circular: true, via: { pathNot: '^src/$1/' } },
    },
    {
      name: 'no-circular',
      comment:
        'No import circle at all; the ones inside a single folder that predate this rule are in ' +
        '.dependency-cruiser-known-violations.json, so only a new one fails.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'providers-no-kubernetes-client',
      comment:
        'Providers never see Kubernetes objects: what a provider needs reaches it as a model type through the provider contract. ' +
        'Exception: the metal speaker (src/providers/metal/speaker) is a separate program on each node that talks to the API ' +
        'itself, through src/kube.',
      severity: 'error',
      from: {
        path: '^src/providers/',
        pathNot: '^src/providers/metal/speaker/',
      },
      to: { path: '(^|/)node_modules/@kubernetes/client-node/' },
    },
    {
      name: 'client-node-internals',
      comment:
        "client-node's dist/ internals are not its API and move between releases; the one use (ObjectSerializer, which " +
        '1.4 does not export) is in src/kube/client-node.ts, the one module lbc takes client-node values from.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/kube/client-node\\.ts$' },
      to: { path: '(^|/)node_modules/@kubernetes/client-node/dist/(?!index\\.js$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a circle through types still ties the modules together.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
