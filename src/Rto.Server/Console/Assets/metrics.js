// Metrics: find keys by prefix, pick some, plot them over a time range (live: redrawn as puts arrive).
'use strict';
(() => {
  const { el, fmtInt } = Rto;
  const prefix = document.getElementById('prefix'), range = document.getElementById('range'), follow = document.getElementById('follow');
  const from = document.getElementById('from'), to = document.getElementById('to');
  const chosen = new Set();
  let source = null, plot = null, plotKey = '', timer = 0;
  document.getElementById('live').textContent = '';

  async function listKeys() {
    const response = await fetch(`/api/metrics/keys?prefix=${encodeURIComponent(prefix.value)}`);
    const data = await response.json();
    if (data.enabled === false) { Rto.off(data.capability); return; }
    document.getElementById('keys-summary').textContent = `${fmtInt(data.matching)} of ${fmtInt(data.keyCount)} keys match${data.matching > data.keys.length ? `, the first ${data.keys.length} listed` : ''}`;
    document.getElementById('keys').replaceChildren(...data.keys.map(key => {
      const box = el('input', { type: 'checkbox', value: key, checked: chosen.has(key) });
      box.addEventListener('change', () => { if (box.checked) chosen.add(key); else chosen.delete(key); plotNow(); });
      return el('li', null, el('label', null, box, ' ', el('span', { class: 'mono' }, key)));
    }));
  }

  function query() {
    const keys = [...chosen].map(k => `key=${encodeURIComponent(k)}`).join('&');
    if (range.value === 'custom') {
      const seconds = input => (input.value ? Math.floor(new Date(input.value).getTime() / 1000) : '');
      return `${keys}&from=${seconds(from)}&to=${seconds(to)}`;
    }
    return range.value === 'all' ? `${keys}&from=0` : `${keys}&span=${range.value}`;
  }

  function draw(data) {
    const key = data.series.map(s => s.key).join('|');
    const box = document.getElementById('metrics-chart');
    if (plot === null || plotKey !== key) {
      box.replaceChildren();
      plot = Rto.chart(box, { time: true, height: 360, series: data.series.map(s => ({ label: s.key, points: s.t.length < 60 })) });
      plotKey = key;
    }
    plot.set(Rto.join(data.series));
    document.getElementById('metrics-summary').textContent = data.series.map(s => `${s.key}: ${fmtInt(s.count)} points`).join(' · ') || 'Pick keys on the left.';
  }

  async function plotNow() {
    if (source) { source.close(); source = null; }
    if (chosen.size === 0) { document.getElementById('metrics-chart').replaceChildren(); plot = null; document.getElementById('metrics-summary').textContent = 'Pick keys on the left.'; return; }
    if (follow.checked && range.value !== 'custom') {
      source = Rto.stream(`/api/metrics/stream?${query()}`, draw);
    } else {
      const response = await fetch(`/api/metrics/series?${query()}`);
      draw(await response.json());
    }
  }

  prefix.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(listKeys, 250); });
  range.addEventListener('change', () => { document.getElementById('custom-range').hidden = range.value !== 'custom'; plotNow(); });
  follow.addEventListener('change', plotNow);
  document.getElementById('plot').addEventListener('click', plotNow);
  listKeys();
})();
