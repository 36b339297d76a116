/**
 * A hand-drawn SVG bar chart: one panel per comparison, horizontal bars on the panel's own scale,
 * fex in orange and its peers in blue, the issue's target as a dashed line, and peers that could
 * not run listed as such. No chart library.
 */

const WIDTH = 820;
const LABEL = 230;
const BAR_AREA = 440;
const ROW = 22;
const FEX = '#e8710a';
const PEER = '#4a78b5';

function esc(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10])
    if (step * power >= value) return step * power;
  return 10 * power;
}

function format(value, digits) {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(Math.min(digits, 1));
  return value.toFixed(digits);
}

/**
 * panels: [{ title, unit, digits?, bars: [{ label, value | null, fex?, note? }],
 *            target?: { value, label } }]
 */
export function drawChart({ title, subtitle, panels }) {
  const parts = [];
  let y = 74;
  for (const panel of panels) {
    const values = panel.bars.map((b) => b.value).filter((v) => typeof v === 'number');
    const max = niceMax(Math.max(...values, panel.target?.value ?? 0) * 1.05);
    const scale = (v) => (v / max) * BAR_AREA;
    const digits = panel.digits ?? 2;
    parts.push(
      `<text x="16" y="${y}" class="panel">${esc(panel.title)}</text>` +
        `<text x="${WIDTH - 16}" y="${y}" class="unit" text-anchor="end">${esc(panel.unit)}</text>`,
    );
    y += 10;
    const top = y;
    for (const bar of panel.bars) {
      const cy = y + ROW / 2 + 4;
      parts.push(
        `<text x="${LABEL - 8}" y="${cy}" text-anchor="end" class="${bar.fex ? 'fexlabel' : 'label'}">${esc(bar.label)}</text>`,
      );
      if (typeof bar.value === 'number') {
        const w = Math.max(1, scale(bar.value));
        parts.push(
          `<rect x="${LABEL}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${bar.fex ? FEX : PEER}" rx="2"/>` +
            `<text x="${LABEL + w + 6}" y="${cy}" class="value">${esc(format(bar.value, digits))}${bar.note ? ` ${esc(bar.note)}` : ''}</text>`,
        );
      } else {
        parts.push(
          `<text x="${LABEL + 4}" y="${cy}" class="missing">${esc(bar.note ?? 'not measured')}</text>`,
        );
      }
      y += ROW;
    }
    if (panel.target && panel.target.value > 0) {
      const x = LABEL + scale(panel.target.value);
      parts.push(
        `<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${y}" class="target"/>` +
          `<text x="${(x + 3).toFixed(1)}" y="${y + 11}" class="targetlabel">${esc(panel.target.label)}</text>`,
      );
      y += 12;
    }
    // axis
    parts.push(
      `<line x1="${LABEL}" y1="${top}" x2="${LABEL}" y2="${y}" class="axis"/>` +
        `<text x="${LABEL}" y="${y + 12}" class="tick" text-anchor="middle">0</text>` +
        `<text x="${LABEL + BAR_AREA}" y="${y + 12}" class="tick" text-anchor="middle">${esc(format(max, digits))}</text>`,
    );
    y += 40;
  }
  const height = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">
<style>
.title{font-size:18px;font-weight:bold;fill:#222}
.subtitle{font-size:12px;fill:#555}
.panel{font-size:14px;font-weight:bold;fill:#222}
.unit{font-size:12px;fill:#555}
.label{font-size:12px;fill:#333}
.fexlabel{font-size:12px;fill:#222;font-weight:bold}
.value{font-size:11px;fill:#222}
.missing{font-size:11px;fill:#888;font-style:italic}
.tick{font-size:10px;fill:#777}
.axis{stroke:#999;stroke-width:1}
.target{stroke:#c00;stroke-width:1.5;stroke-dasharray:5 3}
.targetlabel{font-size:10px;fill:#c00}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="24" class="title">${esc(title)}</text>
<text x="16" y="42" class="subtitle">${esc(subtitle)}</text>
${parts.join('\n')}
</svg>
`;
}
