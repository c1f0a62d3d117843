// Overview: endpoints with their connections, requests and errors, a requests-per-second chart, health.
'use strict';
(() => {
  const { el, fmt, fmtInt, fmtBytes, fillTable, badge } = Rto;
  const history = { t: [], byEndpoint: new Map() };
  const keep = 300;
  let rates = null;

  Rto.stream('/api/overview/stream', data => {
    const up = (Date.parse(data.time) - Date.parse(data.started)) / 1000;
    document.getElementById('uptime').textContent = `Console up for ${Rto.fmtDuration(up)} · ${data.endpoints.length} endpoints · updated ${Rto.fmtTime(data.time)}`;
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

    const now = Date.parse(data.time) / 1000;
    history.t.push(now);
    for (const e of data.endpoints) {
      if (!history.byEndpoint.has(e.name)) history.byEndpoint.set(e.name, history.t.slice(0, -1).map(() => null));
    }
    for (const [name, values] of history.byEndpoint) {
      const e = data.endpoints.find(x => x.name === name);
      values.push(e ? e.requestsPerSecond : null);
      if (values.length > keep) values.shift();
    }
    if (history.t.length > keep) history.t.shift();
    if (rates === null) {
      rates = Rto.chart(document.getElementById('rate-chart'), { time: true, height: 220, series: [...history.byEndpoint.keys()].map(name => ({ label: name })) });
    }
    rates.set([history.t, ...history.byEndpoint.values()]);
  });
})();
