// One optimization session: objective and best so far per evaluation, each CV against its limits, the best point.
'use strict';
(() => {
  const { el, fmt, fillTable, badge } = Rto;
  const id = document.body.dataset.session;
  const n = [], objective = [], best = [];
  let definition = null, objectiveChart = null;
  const cvCharts = [];
  const cvValues = [];

  document.getElementById('session-id').textContent = id;
  Rto.stream(`/api/optimization/${encodeURIComponent(id)}/stream`, data => {
    if (data.definition) {
      definition = data.definition;
      document.getElementById('session-info').textContent =
        `${definition.method} · ${definition.maximize ? 'maximize' : 'minimize'} · budget ${definition.maxEvaluations} evaluations · seed ${definition.seed}` +
        `${definition.model ? ` · model ${definition.model}` : ''} · started ${Rto.fmtDateTime(definition.created)}`;
      objectiveChart = Rto.chart(document.getElementById('objective-chart'), {
        xLabel: 'evaluation',
        series: [{ label: 'objective', points: true, width: 1, color: '#8c959f' }, { label: 'best so far', width: 2.5, color: '#1a7f37' }],
      });
      const box = document.getElementById('cv-charts');
      document.getElementById('no-cvs').hidden = definition.cvs.length > 0;
      definition.cvs.forEach((cv, i) => {
        const holder = el('div', { class: 'chart', id: `cv-chart-${i}` });
        box.append(el('div', null, el('h3', null, cv.name ? `${cv.id} · ${cv.name}` : cv.id), holder));
        cvValues.push([]);
        cvCharts.push(Rto.chart(holder, {
          xLabel: 'evaluation', height: 200,
          series: [{ label: cv.id, points: true, width: 1.5 }, { label: 'lower limit', color: '#cf222e', dash: [6, 4], width: 1 }, { label: 'upper limit', color: '#cf222e', dash: [2, 3], width: 1 }],
        }));
      });
    }
    if (!definition) return;

    for (const e of data.added) {
      n.push(e.n); objective.push(e.objective); best.push(e.best);
      e.cvs.forEach((v, i) => cvValues[i] && cvValues[i].push(v));
    }
    const state = document.getElementById('session-state');
    state.textContent = data.state;
    state.className = `badge ${data.state}`;
    if (n.length > 0) {
      objectiveChart.set([n, objective, best]);
      definition.cvs.forEach((cv, i) => cvCharts[i].set([n, cvValues[i], n.map(() => cv.lower), n.map(() => cv.upper)]));
    }

    const b = data.best;
    document.getElementById('best-summary').textContent = b
      ? `evaluation ${b.number} of ${data.evaluations}, objective ${fmt(b.objective)}, ${b.feasible ? 'feasible' : 'not feasible'}` : `no evaluation yet (${data.evaluations})`;
    fillTable('best-mvs', b ? definition.mvs.map((mv, i) => [el('code', null, mv.id), mv.name || '', mv.type, { text: fmt(b.mvs[i]), class: 'num' }, { text: fmt(mv.lower), class: 'num' }, { text: fmt(mv.upper), class: 'num' }]) : [], 'no best point yet');
    fillTable('best-cvs', b ? definition.cvs.map((cv, i) => {
      const v = Rto.num(b.cvs[i]);
      const within = v !== null && (cv.lower === null || v >= cv.lower) && (cv.upper === null || v <= cv.upper);
      return [el('code', null, cv.id), cv.name || '', { text: fmt(v), class: 'num' }, { text: cv.lower === null ? 'none' : fmt(cv.lower), class: 'num' }, { text: cv.upper === null ? 'none' : fmt(cv.upper), class: 'num' }, badge(within ? 'yes' : 'no', within ? 'feasible' : 'infeasible')];
    }) : [], definition.cvs.length === 0 ? 'no CVs' : 'no best point yet');
  });
})();
