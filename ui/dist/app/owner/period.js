// Periods of the report: the presets (this week, this month, last month,
// this quarter) as YYYY-MM-DD dates, and the period just before a period
// (the same kind of period, or as many days, for the deltas).

const pad = (n) => String(n).padStart(2, "0");
export const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const date = (s) => {
  const [y, m, d] = s.split("-").map(Number);
  return new Date(y, m - 1, d);
};
const monthEnd = (y, m) => new Date(y, m + 1, 0);

export const PRESETS = ["week", "month", "lastMonth", "quarter", "custom"];

// preset answers { from, to } of a preset as of today.
export function preset(name, today = new Date()) {
  const y = today.getFullYear();
  const m = today.getMonth();
  switch (name) {
    case "week": {
      const from = new Date(y, m, today.getDate() - ((today.getDay() + 6) % 7));
      return { from: iso(from), to: iso(new Date(from.getFullYear(), from.getMonth(), from.getDate() + 6)) };
    }
    case "lastMonth":
      return { from: iso(new Date(y, m - 1, 1)), to: iso(monthEnd(y, m - 1)) };
    case "quarter": {
      const q = m - (m % 3);
      return { from: iso(new Date(y, q, 1)), to: iso(monthEnd(y, q + 2)) };
    }
    default:
      return { from: iso(new Date(y, m, 1)), to: iso(monthEnd(y, m)) };
  }
}

// previous is the period before { from, to }: the month or quarter before
// when the period is whole months, else as many days just before.
export function previous({ from, to }) {
  const f = date(from);
  const t = date(to);
  const next = new Date(t.getFullYear(), t.getMonth(), t.getDate() + 1);
  if (f.getDate() === 1 && next.getDate() === 1) {
    const months = (next.getFullYear() - f.getFullYear()) * 12 + next.getMonth() - f.getMonth();
    return { from: iso(new Date(f.getFullYear(), f.getMonth() - months, 1)), to: iso(new Date(f.getFullYear(), f.getMonth(), 0)) };
  }
  const days = Math.round((next - f) / 86400000);
  return { from: iso(new Date(f.getFullYear(), f.getMonth(), f.getDate() - days)), to: iso(new Date(f.getFullYear(), f.getMonth(), f.getDate() - 1)) };
}
