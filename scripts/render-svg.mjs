// Renders SVG files to PNG with resvg-js (tools/node): node scripts/render-svg.mjs SIZE IN.svg OUT.png [IN OUT ...]
// Used by fetch-datasets.sh for emoji sets that ship only SVG art. Transparent background, SIZE px wide.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';

const require = createRequire(new URL('../tools/node/package.json', import.meta.url));
const { Resvg } = require('@resvg/resvg-js');
const [size, ...pairs] = process.argv.slice(2);
for (let i = 0; i + 1 < pairs.length; i += 2) {
  const png = new Resvg(readFileSync(pairs[i]), { fitTo: { mode: 'width', value: Number(size) } }).render().asPng();
  writeFileSync(pairs[i + 1], png);
}
