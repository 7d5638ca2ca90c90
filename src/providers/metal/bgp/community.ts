// BGP communities as MetalLB's BGPAdvertisement and Community resources write them
// (internal/bgp/community/community.go): a standard community `65535:65281` (two 16-bit
// halves, RFC 1997) or a large one `large:1:2:3` (three 32-bit numbers, RFC 8092); in a
// BGPAdvertisement also the name of an entry of a Community resource. Pure.

export type Community = { readonly kind: 'standard'; readonly value: number } | { readonly kind: 'large'; readonly value: readonly [number, number, number] };

export type CommunityResult = { readonly ok: true; readonly community: Community } | { readonly ok: false; readonly reason: string };

const U16 = /^\d{1,5}$/;
const U32 = /^\d{1,10}$/;

export function parseCommunity(text: string): CommunityResult {
  const t = text.trim();
  const parts = t.split(':');
  if (parts[0] === 'large') {
    const nums = parts.slice(1);
    if (nums.length !== 3 || !nums.every((n) => U32.test(n) && Number(n) <= 0xffffffff)) {
      return { ok: false, reason: `"${text}" is not a large community (large:N:N:N, each 0-4294967295)` };
    }
    return { ok: true, community: { kind: 'large', value: [Number(nums[0]), Number(nums[1]), Number(nums[2])] } };
  }
  if (parts.length !== 2 || !parts.every((n) => U16.test(n) && Number(n) <= 0xffff)) {
    return { ok: false, reason: `"${text}" is not a community (N:N with each half 0-65535, or large:N:N:N)` };
  }
  return { ok: true, community: { kind: 'standard', value: ((Number(parts[0]) << 16) >>> 0) + Number(parts[1]) } };
}

/**
 * A BGPAdvertisement's community entry: a literal, else a name defined by a Community
 * resource (`aliases`: name → value as written there).
 */
export function resolveCommunity(text: string, aliases: ReadonlyMap<string, string>): CommunityResult {
  const literal = parseCommunity(text);
  if (literal.ok) return literal;
  const alias = aliases.get(text);
  if (alias === undefined) return { ok: false, reason: `"${text}" is neither a community (N:N, large:N:N:N) nor the name of one defined in a Community resource` };
  const r = parseCommunity(alias);
  return r.ok ? r : { ok: false, reason: `community "${text}" is defined as "${alias}": ${r.reason}` };
}
