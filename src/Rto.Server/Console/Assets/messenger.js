// Chat: the last messages, then each new one as it is sent.
'use strict';
(() => {
  const { el } = Rto;
  const list = document.getElementById('messages');
  const keep = 500;
  Rto.stream('/api/messenger/stream', data => {
    if (data.reset) list.replaceChildren();
    for (const m of data.messages) {
      list.append(el('li', null, el('span', { class: 'time' }, Rto.fmtTime(m.sendTime)), el('span', { class: 'author' }, m.author || '(anonymous)'), el('span', { class: 'text' }, m.text)));
    }
    while (list.children.length > keep) list.firstElementChild.remove();
    document.getElementById('no-messages').hidden = list.children.length > 0;
    document.getElementById('chat-summary').textContent = `${list.children.length} messages shown · ${data.subscribers} gRPC readers connected`;
    if (data.messages.length > 0) list.lastElementChild.scrollIntoView({ block: 'nearest' });
  });
})();
