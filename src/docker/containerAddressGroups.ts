// Container-aware rule addresses from the rules to the engine, live: the rule set names
// dynamic address groups (`@label:tier=db`, src/detect/addressSet.ts); the main thread
// resolves each from the ContainerDirectory (or a --containers table) and posts the member
// lists to the queue workers, which replace the groups' members in place. Only groups whose
// members changed are posted, and nothing is recompiled.
//
// Threads: each worker compiled its own rules, so each has its own group objects
// (dynamicAddressGroup() is per thread). A worker reports the groups its rules use when it is
// ready (addressGroupRefs), the main thread sends AddressGroupUpdate messages, the worker
// applies them (applyAddressGroupUpdate). `lateral replay` does the same in one thread.
// Cold path throughout.
import { dynamicAddressGroup, dynamicAddressGroups, type AddressSet } from '../detect/addressSet';
import type { Signature } from '../detect/signature';
import type { ContainerDirectory } from './containerDirectory';
import { loadContainerSourceFile } from './containerSourceFile';
import { parseContainerAddressVariable, resolveContainerAddressVariable, type ContainerSource } from './resolveContainerAddressVariable';

/** A group a rule set uses, with the first rule naming it (for warnings). */
export interface AddressGroupRef {
  expr: string;
  file: string;
  line: number;
}

/** Main thread → worker: new member CIDRs of some groups (structured-clone safe). */
export type AddressGroupUpdate = Array<[expr: string, cidrs: string[]]>;

/** Every group this thread's rules named (a worker has one rule set: all of them). */
export function addressGroupRefs(): AddressGroupRef[] {
  return dynamicAddressGroups().map((g) => ({ expr: g.expr, file: g.firstSeen.file, line: g.firstSeen.line }));
}

/** The groups one rule set uses, each with the first of its rules that names it. */
export function addressGroupRefsOf(signatures: readonly Signature[]): AddressGroupRef[] {
  const out = new Map<string, AddressGroupRef>();
  const add = (set: AddressSet, sig: Signature): void => {
    for (const g of set.groups) {
      if (!out.has(g.expr)) out.set(g.expr, { expr: g.expr, file: sig.location.file, line: sig.location.line });
    }
  };
  for (const sig of signatures) {
    add(sig.src, sig);
    add(sig.dst, sig);
  }
  return [...out.values()];
}

/**
 * Replaces the members of this thread's groups. Returns the errors (a bad member address
 * leaves that group as it was); never throws, so a worker keeps judging packets.
 */
export function applyAddressGroupUpdate(update: AddressGroupUpdate): string[] {
  const errors: string[] = [];
  for (const [expr, cidrs] of update) {
    try {
      dynamicAddressGroup(expr).setMembers(cidrs);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return errors;
}

/** Resolves every group once against a source (null: nothing known, all empty). */
export function resolveAddressGroups(refs: readonly AddressGroupRef[], source: ContainerSource | null): { update: AddressGroupUpdate; errors: string[] } {
  const update: AddressGroupUpdate = [];
  const errors: string[] = [];
  for (const r of refs) {
    try {
      const v = parseContainerAddressVariable(r.expr, { file: r.file, line: r.line });
      update.push([r.expr, source === null ? [] : resolveContainerAddressVariable(v, source)]);
    } catch (e) {
      errors.push((e as Error).message);
      update.push([r.expr, []]);
    }
  }
  return { update, errors };
}

/**
 * One line per group that resolves to no address (said once, at load): its rules match
 * nothing until it does. `where`: what the groups were resolved from.
 */
export function emptyGroupWarnings(refs: readonly AddressGroupRef[], update: AddressGroupUpdate, where: string): string[] {
  const members = new Map(update);
  return refs
    .filter((r) => (members.get(r.expr) ?? []).length === 0)
    .map((r) => `${r.file}${r.line > 0 ? `:${r.line}` : ''}: ${r.expr} resolves to no address (${where}); rules using it match nothing until it does`);
}

export interface AddressGroupFollower {
  /** The members as last posted, by expression. */
  readonly current: ReadonlyMap<string, readonly string[]>;
  /** Updates posted after the first one. */
  readonly updates: number;
  close(): void;
}

/**
 * Resolves the groups now (posting all of them once) and, for a live ContainerDirectory, on
 * every change, posting only the groups whose members changed. `post` must deliver to every
 * worker; a new container's address is thus in the workers' rules one message after Docker's
 * event.
 */
export function followAddressGroups(
  refs: readonly AddressGroupRef[],
  source: ContainerDirectory | ContainerSource | null,
  post: (update: AddressGroupUpdate) => void,
  log: (line: string) => void,
  where: string,
): AddressGroupFollower {
  const first = resolveAddressGroups(refs, source);
  for (const e of first.errors) log(e);
  for (const w of emptyGroupWarnings(refs, first.update, where)) log(`warning: ${w}`);
  const current = new Map<string, readonly string[]>(first.update);
  if (first.update.length > 0) post(first.update);
  let updates = 0;
  const live = source !== null && 'on' in source && typeof (source as ContainerDirectory).on === 'function' ? (source as ContainerDirectory) : null;
  const valid = refs.filter((r) => !first.errors.some((e) => e.includes(JSON.stringify(r.expr))));
  const listener = (): void => {
    const next = resolveAddressGroups(valid, live).update.filter(([expr, cidrs]) => !sameList(current.get(expr) ?? [], cidrs));
    if (next.length === 0) return;
    for (const [expr, cidrs] of next) {
      current.set(expr, cidrs);
      log(`address group ${expr} = [${cidrs.join(',')}]`);
    }
    updates++;
    post(next);
  };
  if (live !== null && refs.length > 0) live.on('change', listener);
  return {
    current,
    get updates() {
      return updates;
    },
    close(): void {
      live?.off('change', listener);
    },
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Offline (`lateral replay`, `lateral rules check`): resolves the groups a rule set uses from
 * a --containers table once, or leaves them empty without one. Returns one warning per group
 * that resolves to no address, plus any error, each naming the rule's file:line.
 */
export function resolveRuleAddressGroups(signatures: readonly Signature[], containersFile: string | undefined): { refs: AddressGroupRef[]; update: AddressGroupUpdate; warnings: string[] } {
  const refs = addressGroupRefsOf(signatures);
  if (refs.length === 0) return { refs, update: [], warnings: [] };
  const source = containersFile !== undefined ? loadContainerSourceFile(containersFile) : null;
  const { update, errors } = resolveAddressGroups(refs, source);
  const applyErrors = applyAddressGroupUpdate(update);
  const where = containersFile !== undefined ? `--containers ${containersFile}` : 'offline: no Docker; give a --containers table';
  return { refs, update, warnings: [...errors, ...applyErrors, ...emptyGroupWarnings(refs, update, where)] };
}
