// Deterministic damage to ET Open rules for the parser differential (makeParseGolden.ts,
// parseGolden.test.ts) and the fuzz test: cuts, one-character substitutions, duplicated
// and deleted spans. Each mutated rule keeps one line and gets a unique sid.

const NOISE = ['"', ';', '\\', ':', '|', '(', ')', '[', ']', '!', ',', ' ', '$', '0', 'x', '/'];

export function mutateRules(etText: string, seed: number, count: number): string[] {
  const lines = etText.split('\n').filter((l) => l.startsWith('alert '));
  let s = seed >>> 0;
  const rnd = (n: number): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s >>> 8) % n; };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const l = lines[rnd(lines.length)]!;
    const kind = rnd(4);
    const at = rnd(l.length);
    let m: string;
    if (kind === 0) m = l.slice(0, at);
    else if (kind === 1) m = l.slice(0, at) + NOISE[rnd(NOISE.length)]! + l.slice(at + 1);
    else if (kind === 2) m = l.slice(0, at) + l.slice(at, at + rnd(40)) + l.slice(at);
    else m = l.slice(0, at) + l.slice(at + 1 + rnd(20));
    m = m.replace(/\\\s*$/, '').replace(/sid\s*:\s*\d+/, `sid:${100000 + i}`);
    if (m.trim() && !m.trim().startsWith('#')) out.push(m);
  }
  return out;
}
