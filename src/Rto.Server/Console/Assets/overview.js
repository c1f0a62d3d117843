// Overview: endpoints with their connections, requests and errors, a requests-per-second chart, health.
'use strict';
(() => {
  const { el, fmt, fmtInt, fmtBytes, fillTable, badge } = Rto;
  const keep = 300;
  const t = [];
  const rates = new Map();
  let chart = null;

  function addSample(time, byEndpoint) {
    if (t.length > 0 && time <= t[t.length - 1]) return;
    t.push(time);
    for (const [name, values] of rates) {
      values.push(byEndpoint[name] ?? null);
      if (values.length > keep) values.shift();
    }
    if (t.length > keep) t.shift();
  }

  Rto.stream('/api/overview/stream', data => {
    const up = (Date.parse(data.time) - Date.parse(data.started)) / 1000;
    document.getElementById('uptime').textContent = `Server up for ${Rto.fmtDuration(up)} · ${data.endpoints.length} endpoints · updated ${Rto.fmtTime(data.time)}`;
    fillTable('endpoints', data.endpoints.map(e => [
      el('strong', null, e.name), el('code', null, e.address), { text: e.description, class: 'muted' },
      { text: fmtInt(e.connectionsActive), class: 'num' }, { text: fmtInt(e.connectionsOpened), class: 'num' },
      { text: fmtInt(e.requests), class: 'num' }, { text: fmt(e.requestsPerSecond, 3), class: 'num' },
      { text: fmtInt(e.errors), class: 'num' },
      Object.keys(e.errorsByReason).length === 0 ? { text: '–', class: 'muted' }
        : el('span', null, Object.entries(e.errorsByReason).map(([reason, n]) => el('span', { class: 'badge failed' }, `${reason} ${fmtInt(n)}`))),
      { text: e.meanDurationMs === null ? '–' : `${fmt(e.meanDurationMs, 3)} ms`, class: 'num' },
      { text: fmtBytes(e.bytesReceived), class: 'num' }, { text: fmtBytes(e.bytesSent), class: 'num' },
    ]), 'no endpoints');

    const health = data.health;
    const status = document.getElementById('health-status');
    if (health) {
      status.textContent = health.status;
      status.className = `badge ${health.status}`;
      fillTable('health', health.checks.map(c => [el('strong', null, c.name), badge(c.status), c.description || '']), 'no entries');
    } else {
      status.textContent = 'checking…';
    }

    if (chart === null) {
      for (const e of data.endpoints) rates.set(e.name, []);
      for (const sample of data.history || []) addSample(sample.time, sample.requests);
      chart = Rto.chart(document.getElementById('rate-chart'), { time: true, height: 220, series: [...rates.keys()].map(name => ({ label: name })) });
    }
    if (data.sampledAt !== null) {
      addSample(data.sampledAt, Object.fromEntries(data.endpoints.map(e => [e.name, e.requestsPerSecond])));
    }
    if (t.length > 0) chart.set([t, ...rates.values()]);
  });
})();
