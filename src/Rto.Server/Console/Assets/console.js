// Rto console: helpers shared by every page (live streams, formatting, tables, charts with uPlot).
'use strict';

const Rto = (() => {
  const palette = ['#1f6feb', '#d1242f', '#1a7f37', '#bf8700', '#8250df', '#0a7ea4', '#cf6b00', '#6e7781', '#e85aad', '#116329', '#953800', '#0550ae', '#a40e26', '#4d2d00', '#3e1f79', '#1b7c83'];

  /** Opens a server-sent event stream; onData gets each update. The browser reconnects by itself. */
  function stream(url, onData) {
    const source = new EventSource(url);
    const live = document.getElementById('live');
    const show = (text, ok) => { if (live) { live.textContent = text; live.classList.toggle('ok', ok); } };
    source.onopen = () => show('live', true);
    source.onerror = () => show('reconnecting…', false);
    source.onmessage = event => {
      const data = JSON.parse(event.data);
      show('live', true);
      if (live) { live.classList.add('pulse'); setTimeout(() => live.classList.remove('pulse'), 150); }
      if (data && data.enabled === false) { off(data.capability); source.close(); return; }
      onData(data);
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    };
    return source;
  }

  /** Replaces the page with a note that the capability is switched off. */
  function off(capability) {
    const main = document.querySelector('main');
    main.replaceChildren(el('p', { class: 'off', id: 'capability-off' }, `The ${capability} capability is switched off on this server (${capability}:Enabled=false).`));
  }

  /** JSON numbers may be the strings NaN or Infinity; those are gaps. */
  const num = v => (typeof v === 'number' && Number.isFinite(v) ? v : null);

  function fmt(v, digits = 5) {
    v = num(v);
    if (v === null) return '–';
    if (v !== 0 && (Math.abs(v) >= 1e7 || Math.abs(v) < 1e-4)) return v.toExponential(3);
    return String(Number(v.toPrecision(digits)));
  }
  const fmtInt = v => (num(v) === null ? '–' : Math.round(v).toLocaleString('en-US'));
  const fmtTime = iso => (iso ? new Date(iso).toLocaleTimeString('en-GB') : '–');
  const fmtDateTime = iso => (iso ? new Date(iso).toLocaleString('en-GB') : '–');
  function fmtDuration(seconds) {
    seconds = num(seconds);
    if (seconds === null) return '–';
    if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
    if (seconds < 120) return `${seconds.toFixed(1)} s`;
    if (seconds < 7200) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }
  function fmtBytes(n) {
    n = num(n) || 0;
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
  }

  /** Creates an element: el('td', {class: 'num'}, 'text', childNode, …). */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /** Fills a table body: rows of cells (strings, nodes, or {text, class}); empty shows `empty` across the row. */
  function fillTable(id, rows, empty) {
    const table = document.getElementById(id);
    const columns = table.tHead.rows[0].cells.length;
    const body = table.tBodies[0];
    if (rows.length === 0) {
      body.replaceChildren(el('tr', null, el('td', { class: 'empty', colspan: columns }, empty || 'none')));
      return;
    }
    body.replaceChildren(...rows.map(cells => el('tr', null, cells.map(cell =>
      cell !== null && typeof cell === 'object' && !(cell instanceof Node) ? el('td', { class: cell.class, title: cell.title }, cell.node || cell.text) : el('td', null, cell)))));
  }

  const badge = (text, kind) => el('span', { class: `badge ${kind || text}` }, text);

  /**
   * A chart that redraws itself with each update: chart(container, {series: [{label, color, points, width, dash}], time, height})
   * then .set([xs, ys1, ys2, …]). The x axis is Unix seconds when `time`, a plain number otherwise.
   */
  function chart(container, options) {
    let plot = null;
    const height = options.height || 260;
    const make = data => {
      const series = [{ label: options.xLabel || (options.time ? 'time' : 'x') }].concat(options.series.map((s, i) => ({
        label: s.label,
        stroke: s.color || palette[i % palette.length],
        width: s.width || 1.5,
        dash: s.dash,
        spanGaps: s.spanGaps !== false,
        points: s.points ? { show: true, size: 5, fill: s.color || palette[i % palette.length] } : { show: false },
        value: (u, v) => fmt(v),
      })));
      plot = new uPlot({
        width: Math.max(200, container.clientWidth),
        height,
        scales: { x: { time: !!options.time } },
        series,
        axes: [{ grid: { stroke: '#eef1f5' } }, { grid: { stroke: '#eef1f5' }, size: 70, values: (u, values) => values.map(v => fmt(v, 4)) }],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      }, data, container);
      // Tests and curious operators can reach every chart by its box's id.
      (window.RtoCharts = window.RtoCharts || {})[container.id] = plot;
    };
    new ResizeObserver(() => { if (plot) plot.setSize({ width: Math.max(200, container.clientWidth), height }); }).observe(container);
    return {
      set(data) {
        data = data.map(column => Array.from(column, num));
        if (plot === null) make(data); else plot.setData(data);
      },
      get plot() { return plot; },
    };
  }

  /** Aligns series with different x values onto one x axis (gaps where a series has no point). */
  function join(list) {
    if (list.length === 0) return [[]];
    return uPlot.join(list.map(s => [Array.from(s.t), Array.from(s.v, num)]));
  }

  return { palette, stream, off, num, fmt, fmtInt, fmtTime, fmtDateTime, fmtDuration, fmtBytes, el, fillTable, badge, chart, join };
})();
