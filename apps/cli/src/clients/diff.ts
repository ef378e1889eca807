/** A small unified-style line diff for `--dry-run` (common prefix/suffix trimmed, LCS on the rest). */
export function lineDiff(before: string, after: string, label: string): string {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const lcs: number[][] = Array.from({ length: midA.length + 1 }, () =>
    new Array<number>(midB.length + 1).fill(0),
  );
  for (let i = midA.length - 1; i >= 0; i--) {
    for (let j = midB.length - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] =
        midA[i] === midB[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, row[j + 1] as number);
    }
  }
  const body: string[] = [];
  const ctxStart = Math.max(0, start - 3);
  for (let k = ctxStart; k < start; k++) body.push(` ${a[k]}`);
  let i = 0;
  let j = 0;
  while (i < midA.length || j < midB.length) {
    if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
      body.push(` ${midA[i]}`);
      i++;
      j++;
    } else if (
      j < midB.length &&
      (i >= midA.length || ((lcs[i] as number[])[j + 1] as number) >= ((lcs[i + 1] as number[])[j] as number))
    ) {
      body.push(`+${midB[j]}`);
      j++;
    } else {
      body.push(`-${midA[i]}`);
      i++;
    }
  }
  for (let k = endA; k < Math.min(a.length, endA + 3); k++) body.push(` ${a[k]}`);
  if (!body.some((l) => l.startsWith('+') || l.startsWith('-'))) return `(no change to ${label})`;
  return [`--- ${label}`, `+++ ${label}`, `@@ -${ctxStart + 1} +${ctxStart + 1} @@`, ...body].join('\n');
}
