/** Validation issues (zod's `error.issues`) as one line: `path: message; …`, at most `limit` of them. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], limit = Infinity): string {
  return issues
    .slice(0, limit)
    .map((i) => `${i.path.join('.')}: ${i.message}`)
    .join('; ');
}
