/*
 * Small charts drawn as inline SVG, no library and no build step: horizontal bars, lines over
 * days, and stacked bars of shares. Each comes as a <figure>: a caption (title, one sentence of
 * what it shows), a legend, the picture (role="img", named by the caption) and the same
 * numbers as a table behind "Show as a table" for screen readers and for exact values.
 *
 * Colours are the page's CSS variables (reports.css), so light and dark follow the dashboard;
 * series differ in shape too (dashes, markers), never only in colour. The SVG is drawn at the
 * width it gets, in pixels (text keeps its size), and again when that width changes.
 */
import { el } from "./app.js";

const SVG = "http://www.w3.org/2000/svg";
const CHAR_PX = 7; // an average character of the 12 px labels, to shorten long ones
let serial = 0;

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  Object.keys(attrs || {}).forEach((name) => node.setAttribute(name, String(attrs[name])));
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function shorten(text, px) {
  const room = Math.max(4, Math.floor(px / CHAR_PX));
  return text.length <= room ? text : text.slice(0, room - 1) + "…";
}

/** 1, 2 or 5 times a power of ten, at least `value` (and at least 1). */
export function niceStep(value) {
  if (!(value > 1)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

function table(caption, columns, rows) {
  const t = el("table", "chart-table");
  t.appendChild(el("caption", "visually-hidden", caption));
  const head = el("tr");
  columns.forEach((c, i) => {
    const th = el("th", i ? "num" : "", c);
    th.scope = "col";
    head.appendChild(th);
  });
  const thead = el("thead");
  thead.appendChild(head);
  t.appendChild(thead);
  const body = el("tbody");
  rows.forEach((cells) => {
    const tr = el("tr");
    cells.forEach((cell, i) => {
      const td = el(i ? "td" : "th", i ? "num" : "", cell);
      if (!i) td.scope = "row";
      tr.appendChild(td);
    });
    body.appendChild(tr);
  });
  t.appendChild(body);
  return t;
}

function legend(items) {
  const list = el("ul", "chart-legend");
  items.forEach((item) => {
    const li = el("li");
    const swatch = el("span", "swatch " + item.className);
    swatch.setAttribute("aria-hidden", "true");
    li.appendChild(swatch);
    li.appendChild(document.createTextNode(item.name));
    list.appendChild(li);
  });
  return list;
}

/**
 * The frame every chart shares. `draw(width)` returns the <svg>; `summary` is one sentence a
 * reader gets instead of the picture; `empty` replaces picture and table when there is nothing.
 */
function frame({ title, description, summary, legendItems, draw, tableCaption, columns, rows, empty }) {
  serial += 1;
  const id = "chart-" + serial;
  const figure = el("figure", "chart card");
  figure.setAttribute("aria-labelledby", id + "-title");
  const caption = el("figcaption");
  const h = el("h3", "", title);
  h.id = id + "-title";
  caption.appendChild(h);
  if (description) caption.appendChild(el("p", "muted small", description));
  figure.appendChild(caption);
  if (empty) {
    figure.appendChild(el("p", "chart-empty muted", empty));
    return figure;
  }
  if (legendItems) figure.appendChild(legend(legendItems));
  const summaryText = el("p", "visually-hidden", summary);
  summaryText.id = id + "-summary";
  figure.appendChild(summaryText);
  const canvas = el("div", "chart-canvas");
  figure.appendChild(canvas);
  let drawn = 0;
  let observer = null;
  const render = () => {
    if (observer && !canvas.isConnected) {
      observer.disconnect(); // the page replaced this chart
      return;
    }
    const width = Math.round(canvas.clientWidth) || 560;
    if (width === drawn) return;
    drawn = width;
    const svg = draw(Math.max(width, 240));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-labelledby", id + "-title");
    svg.setAttribute("aria-describedby", id + "-summary");
    svg.setAttribute("focusable", "false");
    canvas.replaceChildren(svg);
  };
  render();
  if (typeof ResizeObserver === "function") {
    observer = new ResizeObserver(render);
    observer.observe(canvas);
  }
  const more = el("details", "chart-data");
  more.appendChild(el("summary", "", "Show as a table"));
  more.appendChild(table(tableCaption || title, columns, rows));
  figure.appendChild(more);
  return figure;
}

function sized(width, height) {
  return svgEl("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, class: "chart-svg" });
}

/**
 * Horizontal bars, one per item, in the order given: `bars` = [{label, value, text}], `text`
 * being the value as people read it (money, percent); `labelName` and `valueName` head the
 * table's columns.
 */
export function barChart({ title, description, summary, bars, labelName, valueName, empty }) {
  return frame({
    title,
    description,
    summary,
    empty: bars.length ? null : empty,
    columns: [labelName, valueName],
    rows: bars.map((b) => [b.label, b.text]),
    draw: (width) => {
      const row = 28;
      const height = bars.length * row + 8;
      const svg = sized(width, height);
      const labelWidth = Math.min(Math.round(width * 0.38), 240);
      const valueWidth = 96;
      const start = labelWidth + 8;
      const room = Math.max(width - start - valueWidth, 20);
      const max = Math.max(...bars.map((b) => b.value), 0) || 1;
      bars.forEach((b, i) => {
        const y = 4 + i * row;
        const g = svgEl("g", { class: "bar-row" });
        g.appendChild(svgEl("title", {}, b.label + ": " + b.text));
        g.appendChild(svgEl("text", { x: labelWidth, y: y + 18, "text-anchor": "end", class: "chart-label" }, shorten(b.label, labelWidth)));
        const w = Math.max(2, Math.round((b.value / max) * room));
        g.appendChild(svgEl("rect", { x: start, y: y + 5, width: w, height: row - 10, rx: 2, class: "series-0" }));
        g.appendChild(svgEl("text", { x: start + w + 6, y: y + 18, class: "chart-value" }, b.text));
        svg.appendChild(g);
      });
      return svg;
    },
  });
}

/**
 * Lines over days: `labels` = the x values as people read them (one per point), `series` =
 * [{name, values}] (same length as labels). The first series is solid with round markers,
 * the second dashed with square ones.
 */
export function lineChart({ title, description, summary, labels, series, xName, empty }) {
  const rows = labels
    .map((label, i) => [label].concat(series.map((s) => s.values[i])))
    .filter((cells) => cells.slice(1).some((v) => v > 0))
    .map((cells) => cells.map((v, i) => (i ? Number(v).toLocaleString() : v)));
  return frame({
    title,
    description,
    summary,
    empty: labels.length ? null : empty,
    legendItems: series.map((s, i) => ({ name: s.name, className: "series-" + i + (i ? " dashed" : "") })),
    tableCaption: title + " (days with activity)",
    columns: [xName].concat(series.map((s) => s.name)),
    rows,
    draw: (width) => {
      const height = 220;
      const left = 48;
      const right = 16;
      const top = 12;
      const bottom = 28;
      const svg = sized(width, height);
      const plotW = width - left - right;
      const plotH = height - top - bottom;
      const max = Math.max(0, ...series.map((s) => Math.max(0, ...s.values)));
      const step = niceStep(max / 4);
      const yMax = step * 4;
      const y = (v) => top + plotH - (v / yMax) * plotH;
      const n = labels.length;
      const x = (i) => (n === 1 ? left + plotW / 2 : left + (i * plotW) / (n - 1));
      for (let t = 0; t <= 4; t++) {
        const v = t * step;
        svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), class: t ? "grid" : "axis" }));
        svg.appendChild(svgEl("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "chart-label" }, v.toLocaleString()));
      }
      const ticks = n > 2 ? [0, Math.floor((n - 1) / 2), n - 1] : n === 2 ? [0, 1] : [0];
      ticks.forEach((i, k) => {
        const anchor = n === 1 ? "middle" : k === 0 ? "start" : k === ticks.length - 1 ? "end" : "middle";
        svg.appendChild(svgEl("text", { x: x(i), y: height - 8, "text-anchor": anchor, class: "chart-label" }, labels[i]));
      });
      series.forEach((s, k) => {
        const points = s.values.map((v, i) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
        svg.appendChild(svgEl("polyline", { points: points, class: "line series-" + k + (k ? " dashed" : "") }));
        if (n <= 60) {
          s.values.forEach((v, i) => {
            const marker = k
              ? svgEl("rect", { x: x(i) - 3, y: y(v) - 3, width: 6, height: 6, class: "marker series-" + k })
              : svgEl("circle", { cx: x(i), cy: y(v), r: 3, class: "marker series-" + k });
            svg.appendChild(marker);
          });
        }
      });
      return svg;
    },
  });
}

/**
 * Shares of a whole per row, stacked: `rows` = [{label, parts: [{value}]}], `parts` = the
 * names of the shares (first drawn solid, second muted), `rowName` heads the rows' column.
 */
export function shareChart({ title, description, summary, rows, parts, rowName, empty }) {
  const total = (r) => r.parts.reduce((sum, p) => sum + p.value, 0);
  const percent = (v, t) => (t ? Math.round((v / t) * 100) + " %" : "—");
  const anything = rows.some((r) => total(r) > 0);
  return frame({
    title,
    description,
    summary,
    empty: anything ? null : empty,
    legendItems: parts.map((name, i) => ({ name, className: "part-" + i })),
    columns: [rowName].concat(parts, ["Total"]),
    rows: rows.map((r) =>
      [r.label]
        .concat(r.parts.map((p) => p.value.toLocaleString() + " (" + percent(p.value, total(r)) + ")"))
        .concat([total(r).toLocaleString()])
    ),
    draw: (width) => {
      const row = 52;
      const svg = sized(width, rows.length * row);
      rows.forEach((r, i) => {
        const t = total(r);
        const y = i * row;
        svg.appendChild(svgEl("text", { x: 0, y: y + 14, class: "chart-label strong" }, r.label + " · " + t.toLocaleString()));
        svg.appendChild(svgEl("rect", { x: 0, y: y + 22, width: width, height: 20, rx: 2, class: "track" }));
        let at = 0;
        r.parts.forEach((p, k) => {
          if (!t || !p.value) return;
          const w = (p.value / t) * width;
          const g = svgEl("g");
          g.appendChild(svgEl("title", {}, r.label + ", " + parts[k] + ": " + p.value.toLocaleString()));
          g.appendChild(svgEl("rect", { x: at, y: y + 22, width: Math.max(w - (k < r.parts.length - 1 ? 2 : 0), 1), height: 20, class: "part-" + k }));
          const label = percent(p.value, t);
          if (w > label.length * CHAR_PX + 8) {
            g.appendChild(svgEl("text", { x: at + 6, y: y + 36, class: "chart-inside part-text-" + k }, label));
          }
          svg.appendChild(g);
          at += w;
        });
      });
      return svg;
    },
  });
}
