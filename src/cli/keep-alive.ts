// Makes a KubeConfig cheap per request. client-node builds a new https.Agent for every
// request, so every API call pays a TCP and TLS handshake (on both sides: the API
// server shares the machine's cores with lbc), and it re-reads certificate files from
// disk for every request too. Here the files are read once (as client-go does) and
// requests share one keep-alive agent per set of connection options. It belongs with
// the client setup in kube/client.ts; it lives here until that module takes it.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

type AgentFactory = (cluster: { server?: string; proxyUrl?: string } | null, options: Record<string, unknown>) => http.Agent;

const inline = (file: string | undefined): string | undefined => (file ? readFileSync(file).toString('base64') : undefined);

function keyPart(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

export function reuseConnections(kc: KubeConfig): KubeConfig {
  kc.clusters = kc.clusters.map((c) => (c.caFile ? { ...c, caData: inline(c.caFile), caFile: undefined } : c));
  kc.users = kc.users.map((u) =>
    u.certFile || u.keyFile
      ? { ...u, certData: inline(u.certFile) ?? u.certData, keyData: inline(u.keyFile) ?? u.keyData, certFile: undefined, keyFile: undefined }
      : u,
  );
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, http.Agent>();
  target.createAgent = (cluster, options) => {
    // Proxied clusters keep client-node's own agents (hpagent, socks).
    if (cluster?.proxyUrl) return original(cluster, options);
    const server = cluster?.server ?? '';
    const id = [server, ...Object.keys(options).sort().map((k) => `${k}=${keyPart(options[k])}`)].join('|');
    let agent = agents.get(id);
    if (!agent) {
      const opts = { ...options, keepAlive: true, scheduling: 'lifo' as const };
      agent = server.startsWith('http:') ? new http.Agent(opts) : new https.Agent(opts);
      agents.set(id, agent);
    }
    return agent;
  };
  return kc;
}
