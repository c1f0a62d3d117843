// Meters: power, voltage and current per meter over a chosen window; readings accepted and rejected by reason.
'use strict';
(() => {
  const { el, fmt, fmtInt, fillTable } = Rto;
  const select = document.getElementById('window');
  let source = null;
  let charts = {};

  function connect() {
    if (source) source.close();
    charts = {};
    for (const id of ['power-chart', 'voltage-chart', 'current-chart']) document.getElementById(id).replaceChildren();
    source = Rto.stream(`/api/meters/stream?window=${select.value}`, update);
  }

  function draw(id, list) {
    const box = document.getElementById(id);
    const key = list.map(s => s.label).join('|');
    if (!charts[id] || charts[id].key !== key) {
      box.replaceChildren();
      charts[id] = { key, chart: Rto.chart(box, { time: true, height: 240, series: list.map(s => ({ label: s.label, color: s.color })) }) };
    }
    charts[id].chart.set(Rto.join(list));
  }

  function update(data) {
    const volts = data.meters.filter(m => m.unit === 'V'), amps = data.meters.filter(m => m.unit === 'A');
    document.getElementById('meters-summary').textContent = data.newest === null
      ? 'No readings yet.' : `${data.meters.length} meters registered · window ends at the newest reading, ${new Date(data.newest * 1000).toLocaleTimeString('en-GB')}`;
    document.getElementById('power-latest').textContent = data.power.latest === null ? '' : `latest ${fmt(data.power.latest)} W`;
    draw('power-chart', [{ label: 'power, W', color: '#8250df', t: data.power.t, v: data.power.v }]);
    draw('voltage-chart', volts.map((m, i) => ({ label: `${m.ip} V`, color: Rto.palette[i % 8], t: m.t, v: m.v })));
    draw('current-chart', amps.map((m, i) => ({ label: `${m.ip} A`, color: Rto.palette[(i + 3) % 8], t: m.t, v: m.v })));
    fillTable('meters', data.meters.map(m => [el('code', null, m.ip), m.unit, { text: `${fmt(m.rangeStart)} … ${fmt(m.rangeStop)}`, class: 'num' }, { text: m.latest === null ? '–' : `${fmt(m.latest)} ${m.unit}`, class: 'num' }, { text: fmtInt(m.count), class: 'num' }]), 'no meters registered');
    const c = data.counters;
    fillTable('rejections', [
      ['accepted', { text: fmtInt(c.accepted), class: 'num' }],
      ['rejected: malformed', { text: fmtInt(c.rejected.malformed), class: 'num' }],
      ['rejected: unknown meter', { text: fmtInt(c.rejected.unknownMeter), class: 'num' }],
      ['rejected: out of range', { text: fmtInt(c.rejected.outOfRange), class: 'num' }],
    ]);
  }

  select.addEventListener('change', connect);
  connect();
})();
