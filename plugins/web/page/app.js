// The page (docs/web.md). Every name, handle and message from the server is put in the page as
// text (textContent), never as HTML. Bundled with tus-js-client by build.mjs; no inline script.
import { Upload } from 'tus-js-client';

const $ = (id) => document.getElementById(id);
const state = {
  session: null,
  files: [],
  sort: { key: 'name', dir: 1 },
  events: null,
  // The file whose rename or delete is being asked ({ name, action }): the table waits for it.
  editing: null,
  stale: false,
};

/** The server's words, as the CLI prints them. */
class Refusal extends Error {}

async function api(method, path, body) {
  const headers = { 'X-Fex-CSRF': state.session?.csrf ?? '' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Refusal('Cannot reach the server.');
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Refusal(answer.error?.message ?? `HTTP ${response.status}`);
  return answer;
}

function showError(message) {
  const alert = $('alert');
  alert.textContent = `Error: ${message}`;
  alert.hidden = false;
}

function clearError() {
  $('alert').hidden = true;
  $('alert').textContent = '';
}

function announce(text) {
  $('live').textContent = text;
}

/** Runs a form's action; a refusal is shown in the server's words, the form keeps its input. */
function onSubmit(form, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await action(new FormData(form));
    } catch (error) {
      showError(error.message);
    } finally {
      button.disabled = false;
    }
  });
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
export function humanSize(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

function humanTime(seconds) {
  if (!Number.isFinite(seconds)) return '…';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s`;
}

function stamp(time) {
  return new Date(time).toLocaleString();
}

function render() {
  const session = state.session;
  const signedIn = Boolean(session?.handle);
  $('who').textContent = signedIn ? `Signed in as ${session.handle}.` : 'Not signed in.';
  $('sign-out').hidden = !signedIn;
  $('identity').hidden = signedIn;
  $('upload').hidden = !signedIn;
  $('files').hidden = !signedIn;
  $('messages').hidden = !(signedIn && session.messaging);
}

/** A button of the file table. */
function button(label, aria, onClick, type = 'button') {
  const b = document.createElement('button');
  b.type = type;
  b.textContent = label;
  b.setAttribute('aria-label', aria);
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

/** Ends a rename or delete being asked, and shows the table as it now is. */
function stopEditing(focus) {
  state.editing = null;
  state.stale = false;
  renderFiles();
  if (focus) document.querySelector(focus)?.focus();
}

/** The owner's rename form in place of the name: Enter renames, Escape leaves it as it was. */
function renameForm(file) {
  const form = document.createElement('form');
  form.className = 'rename-form';
  const input = document.createElement('input');
  input.name = 'to';
  input.value = file.name;
  input.required = true;
  input.setAttribute('aria-label', `New name for ${file.name}`);
  const back = `button[data-rename="${CSS.escape(file.name)}"]`;
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') stopEditing(back);
  });
  form.append(
    input,
    button('Rename', `Rename ${file.name} to the new name`, null, 'submit'),
    button('Cancel', `Keep the name ${file.name}`, () => stopEditing(back)),
  );
  onSubmit(form, async (data) => {
    const to = String(data.get('to'));
    const answer = await api('POST', '/api/rename', { name: file.name, to });
    announce(`Renamed ${answer.from} to ${answer.name}.`);
    state.files = state.files.map((f) =>
      f.name === answer.from ? { ...f, name: answer.name } : f,
    );
    stopEditing(`button[data-rename="${CSS.escape(answer.name)}"]`);
    void loadFiles().catch(() => undefined);
  });
  queueMicrotask(() => {
    input.focus();
    input.select();
  });
  return form;
}

/** The owner's question before a delete: nothing is deleted until it is answered yes. */
function deleteQuestion(file) {
  const question = document.createElement('span');
  question.className = 'question';
  question.textContent = `Delete ${file.name}?`;
  const back = `button[data-delete="${CSS.escape(file.name)}"]`;
  const yes = button('Delete', `Yes, delete ${file.name}`, async () => {
    clearError();
    yes.disabled = true;
    try {
      await api('POST', '/api/delete', { name: file.name });
      announce(`Deleted ${file.name}.`);
      state.files = state.files.filter((f) => f.name !== file.name);
      stopEditing('#files-heading');
      void loadFiles().catch(() => undefined);
    } catch (error) {
      yes.disabled = false;
      showError(error.message);
    }
  });
  const no = button('Keep', `No, keep ${file.name}`, () => stopEditing(back));
  question.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') stopEditing(back);
  });
  question.append(yes, no);
  queueMicrotask(() => no.focus());
  return question;
}

/** Rename and delete for the signed-in handle's own files; nothing for the others'. */
function actionsOf(file, nameCell) {
  const cell = document.createElement('td');
  cell.className = 'actions';
  if (file.owner !== state.session?.handle) return cell;
  const editing = state.editing?.name === file.name ? state.editing.action : null;
  if (editing === 'rename') nameCell.replaceChildren(renameForm(file));
  if (editing === 'delete') {
    cell.append(deleteQuestion(file));
    return cell;
  }
  const edit = (action) => () => {
    clearError();
    state.editing = { name: file.name, action };
    renderFiles();
  };
  const rename = button('Rename', `Rename ${file.name}`, edit('rename'));
  rename.dataset.rename = file.name;
  const remove = button('Delete', `Delete ${file.name}`, edit('delete'));
  remove.dataset.delete = file.name;
  cell.append(rename, remove);
  return cell;
}

function renderFiles() {
  // Not under the owner's hands while a rename or delete is asked: shown once it is over.
  if (state.editing && document.querySelector('#file-rows .rename-form, #file-rows .question')) {
    state.stale = true;
    return;
  }
  const filter = $('filter').value.trim().toLowerCase();
  const { key, dir } = state.sort;
  const shown = state.files
    .filter(
      (f) =>
        !filter ||
        f.name.toLowerCase().includes(filter) ||
        String(f.owner).toLowerCase().includes(filter),
    )
    .sort((a, b) => {
      const x = a[key];
      const y = b[key];
      const order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
      return order * dir || a.name.localeCompare(b.name);
    });
  const rows = shown.map((file) => {
    const row = document.createElement('tr');
    const name = document.createElement('td');
    const link = document.createElement('a');
    link.href = `/api/files/${encodeURIComponent(file.name)}`;
    link.download = file.name;
    link.textContent = file.name;
    link.setAttribute('aria-label', `Download ${file.name}`);
    name.append(link);
    const size = document.createElement('td');
    size.className = 'size';
    size.textContent = humanSize(file.size);
    const owner = document.createElement('td');
    owner.textContent = file.owner ?? 'operator';
    const time = document.createElement('td');
    time.textContent = stamp(file.time);
    row.append(name, size, owner, time, actionsOf(file, name));
    return row;
  });
  // A live update keeps the keyboard where it was: on the control of the same name, if any.
  const focused = document.activeElement;
  const label = $('file-rows').contains(focused) ? focused.getAttribute('aria-label') : null;
  $('file-rows').replaceChildren(...rows);
  if (label)
    $('file-rows')
      .querySelector(`[aria-label="${CSS.escape(label)}"]`)
      ?.focus();
  const all = state.files.length;
  $('count').textContent =
    shown.length === all
      ? `${all} file${all === 1 ? '' : 's'}.`
      : `${shown.length} of ${all} files shown.`;
  for (const th of document.querySelectorAll('thead th[aria-sort]')) {
    const button = th.querySelector('button');
    const sorted = button.dataset.key === key;
    th.setAttribute('aria-sort', sorted ? (dir === 1 ? 'ascending' : 'descending') : 'none');
  }
}

async function loadFiles() {
  state.files = (await api('GET', '/api/files')).files;
  renderFiles();
}

function addMessage(line) {
  const item = document.createElement('li');
  item.textContent = line;
  $('message-log').append(item);
  item.scrollIntoView({ block: 'nearest' });
}

/** What other users do, as it happens: uploads (CLI, shell, other pages), messages. */
function listen() {
  state.events?.close();
  const events = new EventSource('/api/events');
  state.events = events;
  events.addEventListener('fex', (message) => {
    const event = JSON.parse(message.data);
    if (event.event === 'uploaded') {
      const entry = { name: event.name, size: event.size, owner: event.handle, time: event.time };
      state.files = [...state.files.filter((f) => f.name !== event.name), entry];
      renderFiles();
      announce(`${event.handle} uploaded ${event.name}.`);
    } else if (event.event === 'message') {
      addMessage(event.line);
    } else if (['deleted', 'renamed', 'expired', 'dropped'].includes(event.event)) {
      if (event.event === 'deleted') announce(`${event.handle} deleted ${event.name}.`);
      if (event.event === 'renamed')
        announce(`${event.handle} renamed ${event.name} to ${event.to}.`);
      void loadFiles().catch(() => undefined);
    } else if (typeof event.line === 'string') addMessage(event.line);
  });
  events.addEventListener('closed', (message) => {
    const reason = JSON.parse(message.data);
    if (reason.code !== 'E_TIMEOUT') showError(reason.message);
  });
}

async function signedIn(session) {
  state.session = session;
  render();
  if (!session.handle) return;
  listen();
  await loadFiles();
}

function upload(file) {
  const item = document.createElement('li');
  const label = document.createElement('span');
  label.textContent = file.name;
  const bar = document.createElement('progress');
  bar.max = file.size || 1;
  bar.value = 0;
  bar.setAttribute('aria-label', `Uploading ${file.name}`);
  const status = document.createElement('span');
  status.textContent = 'Starting…';
  item.append(label, bar, status);
  $('uploads').append(item);
  const started = performance.now();
  let first;
  const upload = new Upload(file, {
    endpoint: '/api/uploads',
    chunkSize: Infinity,
    retryDelays: [0, 1000, 3000, 5000],
    metadata: { filename: file.name },
    headers: { 'X-Fex-CSRF': state.session.csrf },
    removeFingerprintOnSuccess: true,
    onProgress(sent, total) {
      first ??= sent;
      bar.value = sent;
      const seconds = (performance.now() - started) / 1000;
      const rate = (sent - first) / Math.max(seconds, 0.001);
      const left = rate > 0 ? (total - sent) / rate : Infinity;
      status.textContent = `${humanSize(sent)} of ${humanSize(total)}, ${humanSize(Math.round(rate))}/s, ${humanTime(left)} left`;
    },
    onSuccess() {
      bar.value = bar.max;
      status.textContent = `Stored ${humanSize(file.size)}.`;
      announce(`${file.name} stored.`);
      void loadFiles().catch(() => undefined);
    },
    onAfterResponse(request, response) {
      // The server's word on where a resumed upload goes on from.
      const offset = Number(response.getHeader('Upload-Offset'));
      if (request.getMethod() === 'HEAD' && offset > 0) {
        item.dataset.resumedFrom = String(offset);
        label.textContent = `${file.name} (resumed at ${humanSize(offset)})`;
      }
    },
    onShouldRetry(error) {
      const code = error.originalResponse?.getStatus() ?? 0;
      return code === 0 || code === 409 || code === 423 || code >= 500;
    },
    onError(error) {
      const words = error.originalResponse?.getBody();
      const message =
        words && error.originalResponse.getStatus() < 500
          ? words
          : 'The upload was cut off; choose the file again to go on.';
      status.textContent = `Error: ${message}`;
      item.classList.add('failed');
      showError(message);
    },
  });
  // A file chosen again after a reload or a cut goes on from the bytes the server holds.
  void upload.findPreviousUploads().then((previous) => {
    if (previous.length > 0) {
      upload.resumeFromPreviousUpload(previous[0]);
      status.textContent = 'Resuming…';
    }
    upload.start();
  });
}

function uploadAll(files) {
  clearError();
  for (const file of files) upload(file);
}

function wire() {
  onSubmit($('claim-form'), async (data) => {
    const session = await api('POST', '/api/claim', { handle: data.get('handle') });
    $('credential').textContent = session.credential;
    $('credential-box').hidden = false;
    await signedIn(session);
    $('credential-done').focus();
  });
  onSubmit($('login-form'), async (data) => {
    const session = await api('POST', '/api/login', {
      handle: data.get('handle'),
      credential: data.get('credential'),
    });
    $('login-form').reset();
    await signedIn(session);
    $('files-heading').focus();
  });
  onSubmit($('message-form'), async (data) => {
    const to = String(data.get('to')).trim();
    const text = data.get('text');
    const answer = to
      ? await api('POST', '/api/msg', { to, text })
      : await api('POST', '/api/broadcast', { text });
    addMessage(answer.line);
    $('message-text').value = '';
  });
  $('credential-done').addEventListener('click', () => {
    $('credential').textContent = '';
    $('credential-box').hidden = true;
    $('files-heading').focus();
  });
  $('sign-out').addEventListener('click', async () => {
    state.events?.close();
    await api('POST', '/api/logout').catch(() => undefined);
    const session = await api('GET', '/api/session');
    state.files = [];
    $('file-rows').replaceChildren();
    await signedIn(session);
    $('claim-handle').focus();
  });
  $('file-input').addEventListener('change', (event) => {
    uploadAll([...event.target.files]);
    event.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    uploadAll([...event.dataTransfer.files]);
  });
  $('filter').addEventListener('input', renderFiles);
  for (const button of document.querySelectorAll('thead button'))
    button.addEventListener('click', () => {
      const key = button.dataset.key;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      renderFiles();
    });
}

wire();
api('GET', '/api/session')
  .then(signedIn)
  .catch((error) => showError(error.message));
