/** Files drawn in code, so the test needs no binary fixtures. */
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

type Rgb = [number, number, number];

function pixel(x: number, y: number, width: number, height: number): Rgb {
  const box = x > width * 0.25 && x < width * 0.75 && y > height * 0.3 && y < height * 0.8;
  const tape = Math.abs(x - width / 2) < width * 0.04;
  const lid = box && y < height * 0.42;
  if (box && tape) return [222, 196, 120];
  if (lid) return [170, 110, 60];
  if (box) return [196, 134, 76];
  return [225, 240, 250];
}

/** The same parcel, crushed at one corner and torn, on a table. */
function damagedPixel(x: number, y: number, width: number, height: number): Rgb {
  const u = x / width;
  const v = y / height;
  // The top right corner is pushed in: the box's outline follows a diagonal there.
  const dent = u > 0.55 && v < 0.55 && v < 0.3 + (u - 0.55) * 0.9;
  const box = u > 0.2 && u < 0.8 && v > 0.25 && v < 0.82 && !(u > 0.55 && v < 0.3 + (u - 0.55) * 0.9);
  const tear = box && Math.abs(v - (0.58 + 0.035 * Math.sin(u * 55))) < 0.018 && u > 0.27 && u < 0.63;
  const crease = box && Math.abs(v - 0.3 - (u - 0.55) * 0.9) < 0.02 && u > 0.55;
  if (tear) return [60, 40, 25];
  if (crease) return [150, 96, 52];
  if (box) return v < 0.37 ? [170, 110, 60] : [196, 134, 76];
  if (dent) return [205, 215, 222];
  return v > 0.82 ? [150, 120, 95] : [205, 215, 222];
}

function png(width: number, height: number, draw: (x: number, y: number, width: number, height: number) => Rgb): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set(draw(x, y, width, height), 1 + x * 3);
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A parcel on a light background. */
export function parcelPng(width = 240, height = 160): Buffer {
  return png(width, height, pixel);
}

/** A parcel that arrived crushed and torn: what a customer photographs. */
export function damagedParcelPng(width = 240, height = 180): Buffer {
  return png(width, height, damagedPixel);
}

/** The smallest PDF a reader opens: one empty page. */
export function minimalPdf(): Buffer {
  const objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"];
  let body = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((object, index) => {
    offsets.push(body.length);
    body += `${index + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  body += offsets.map((offset) => `${String(offset).padStart(10, "0")} 00000 n \n`).join("");
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, "latin1");
}
