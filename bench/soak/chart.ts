// Draws the soak's series as stacked line charts into a PNG, with pureimage (a pure-JS canvas that
// encodes PNG: no native build, so it installs with `npm ci` under blocked install scripts) and a
// font file from an npm package (pureimage draws text only with a font it is given).
import { createRequire } from "node:module";
import { PassThrough } from "node:stream";
import * as PImage from "pureimage";

type Context = ReturnType<ReturnType<typeof PImage.make>["getContext"]>;

/** One line of a panel. */
export interface ChartLine {
  readonly label: string;
  /** CSS colour, e.g. "#1f77b4". */
  readonly color: string;
  /** x in minutes; a null y leaves a gap. */
  readonly points: readonly { readonly x: number; readonly y: number | null }[];
}

/** One chart, stacked under the previous one; all share the x axis (minutes). */
export interface ChartPanel {
  readonly title: string;
  readonly lines: readonly ChartLine[];
}

export interface ChartOptions {
  readonly title: string;
  /** Lines of text under the title (settings, verdict). */
  readonly subtitle: readonly string[];
  readonly xMaxMinutes: number;
  /** Shades [0, warmupMinutes) as the warm-up the verdict leaves out. */
  readonly warmupMinutes: number;
  readonly width?: number;
  readonly panelHeight?: number;
}

const FONT_FAMILY = "RobotoMono";
let fontLoaded = false;

function loadFont(): void {
  if (fontLoaded) return;
  const file = createRequire(import.meta.url).resolve("@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf");
  PImage.registerFont(file, FONT_FAMILY).loadSync();
  fontLoaded = true;
}

/** Round axis steps: 1, 2 or 5 times a power of ten, giving about `count` ticks up to `max`. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let value = 0; value < max + step * 0.999; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

function formatTick(value: number): string {
  if (value === 0) return "0";
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return Number(value.toFixed(1)).toString();
  return Number(value.toPrecision(2)).toString();
}

function text(ctx: Context, value: string, x: number, y: number, size: number, color = "#222222", align: "left" | "right" | "center" = "left"): void {
  ctx.font = `${size}px ${FONT_FAMILY}`;
  ctx.fillStyle = color;
  const width = ctx.measureText(value).width;
  const left = align === "left" ? x : align === "right" ? x - width : x - width / 2;
  ctx.fillText(value, left, y);
}

function line(ctx: Context, x1: number, y1: number, x2: number, y2: number, color: string, width = 1): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x2, y2);
  ctx.stroke();
}

/** Renders the panels to a PNG. Each y axis starts at 0, so a flat series looks flat and a leak climbs. */
export async function renderChart(panels: readonly ChartPanel[], options: ChartOptions): Promise<Buffer> {
  loadFont();
  const width = options.width ?? 1200;
  const panelHeight = options.panelHeight ?? 230;
  const headerHeight = 40 + options.subtitle.length * 20;
  const height = headerHeight + panels.length * panelHeight + 30;
  const image = PImage.make(width, height);
  const ctx = image.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);
  text(ctx, options.title, 20, 28, 20, "#111111");
  options.subtitle.forEach((lineText, i) => text(ctx, lineText, 20, 52 + i * 20, 14, "#444444"));

  const left = 80;
  const right = width - 210;
  const xMax = Math.max(options.xMaxMinutes, 1e-6);
  const xTicks = niceTicks(xMax, 10).filter((tick) => tick <= xMax + 1e-9);
  const xOf = (minutes: number) => left + (minutes / xMax) * (right - left);

  panels.forEach((panel, index) => {
    const top = headerHeight + index * panelHeight + 28;
    const bottom = top + panelHeight - 60;
    const values = panel.lines.flatMap((l) => l.points.map((p) => p.y).filter((y): y is number => y !== null && Number.isFinite(y)));
    const yTicks = niceTicks(Math.max(...values, 0) * 1.1 || 1);
    const yMax = yTicks[yTicks.length - 1];
    const yOf = (value: number) => bottom - (value / yMax) * (bottom - top);

    text(ctx, panel.title, left, top - 10, 15, "#111111");
    if (options.warmupMinutes > 0) {
      ctx.fillStyle = "#f1f1f1";
      ctx.fillRect(left, top, xOf(Math.min(options.warmupMinutes, xMax)) - left, bottom - top);
      text(ctx, "warm-up", left + 4, top + 14, 11, "#888888");
    }
    for (const tick of yTicks) {
      line(ctx, left, yOf(tick), right, yOf(tick), "#e3e3e3");
      text(ctx, formatTick(tick), left - 8, yOf(tick) + 4, 12, "#444444", "right");
    }
    for (const tick of xTicks) {
      line(ctx, xOf(tick), bottom, xOf(tick), bottom + 4, "#666666");
      text(ctx, formatTick(tick), xOf(tick), bottom + 18, 12, "#444444", "center");
    }
    line(ctx, left, bottom, right, bottom, "#666666");
    line(ctx, left, top, left, bottom, "#666666");
    if (index === panels.length - 1) text(ctx, "minutes since the traffic started", (left + right) / 2, bottom + 38, 13, "#444444", "center");

    panel.lines.forEach((series, lineIndex) => {
      ctx.strokeStyle = series.color;
      ctx.lineWidth = 2;
      let drawing = false;
      ctx.beginPath();
      for (const point of series.points) {
        if (point.y === null || !Number.isFinite(point.y)) {
          drawing = false;
          continue;
        }
        const x = xOf(point.x);
        const y = yOf(point.y);
        if (drawing) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        drawing = true;
      }
      ctx.stroke();
      const legendY = top + 16 + lineIndex * 20;
      line(ctx, right + 16, legendY - 5, right + 40, legendY - 5, series.color, 3);
      text(ctx, series.label, right + 46, legendY, 12, "#222222");
    });
  });

  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (chunk: Buffer) => chunks.push(chunk));
  await PImage.encodePNGToStream(image, out);
  return Buffer.concat(chunks);
}
