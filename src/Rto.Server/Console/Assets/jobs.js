// Jobs: running and queued jobs with their elapsed time, the last results and errors.
'use strict';
(() => {
  const { el, fmtTime, fmtDuration, fillTable, badge } = Rto;
  const where = j => [String(j.id), el('code', null, j.directory || '–'), j.input || '–', el('code', null, j.task || '–')];
  Rto.stream('/api/jobs/stream', data => {
    document.getElementById('jobs-summary').textContent =
      `${data.running.length} of ${data.maxParallelJobs} slots busy · ${data.queued.length} of ${data.queueCapacity} queue places taken · ${data.completed} completed, ${data.failed} failed since start`;
    fillTable('running', data.running.map(j => [...where(j), fmtTime(j.started), { text: fmtDuration(j.elapsedSeconds), class: 'num' }]), 'no job running');
    fillTable('queued', data.queued.map(j => [...where(j), fmtTime(j.admitted), { text: fmtDuration(j.waitedSeconds), class: 'num' }]), 'no job waiting');
    fillTable('recent', data.recent.map(j => [...where(j), fmtTime(j.finished), { text: fmtDuration(j.elapsedSeconds ?? j.waitedSeconds), class: 'num' },
      j.error ? el('span', { class: 'error' }, badge('error', 'failed'), ' ', j.error) : el('span', null, badge('done', 'completed'), ' ', el('code', null, j.result))]), 'no job finished yet');
  });
})();
