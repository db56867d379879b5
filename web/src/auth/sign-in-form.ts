/** The sign-in form shown in the panel while nobody is signed in. */
import type { Me } from '@contracts/auth';
import { ApiError } from '../api/client';
import { t } from '../i18n/i18n';
import { el } from '../ui/dom';
import { changePassword, currentUser, signIn } from './session';
import { errorText } from '../api/error-text';

export function mountSignInForm(root: HTMLElement, onSignedIn: (me: Me) => void, notice?: string): () => void {
  const form = el('form', 'sign-in');
  form.dataset.testid = 'sign-in';
  form.append(el('h2', '', t('signin.title')));
  if (notice) form.append(el('p', 'notice', notice));
  const user = input('username', 'text', t('signin.username'), 'username');
  const pass = input('password', 'password', t('signin.password'), 'current-password');
  const { submit, message } = submitControls('sign-in', t('signin.submit'));
  form.append(user.label, pass.label, submit, message);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = t('signin.busy');
    message.textContent = '';
    const password = pass.input.value;
    signIn(user.input.value.trim(), password)
      .then((me) => {
        if (me.mustChangePassword) {
          // A one-time password: the new one is chosen here, before anything else opens.
          form.remove();
          mountPasswordChange(root, password, onSignedIn);
        } else onSignedIn(me);
      })
      .catch((err: unknown) => {
        message.textContent = describe(err);
        submit.disabled = false;
        submit.textContent = t('signin.submit');
      });
  });
  root.append(form);
  user.input.focus();
  return () => form.remove();
}

function describe(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return t('signin.wrong');
    if (err.status === 423) return t('signin.locked');
    if (err.status === 429) return t('signin.rateLimited');
  }
  return t('signin.failed', { message: errorText(err) });
}

function input(name: string, type: string, labelText: string, autocomplete: string): { label: HTMLLabelElement; input: HTMLInputElement } {
  const label = el('label', 'field');
  label.append(el('span', '', labelText));
  const field = el('input');
  field.name = name;
  field.type = type;
  field.required = true;
  field.autocomplete = autocomplete as AutoFill;
  field.dataset.testid = `sign-in-${name}`;
  label.append(field);
  return { label, input: field };
}

function mountPasswordChange(root: HTMLElement, currentPassword: string, onChanged: (me: Me) => void): void {
  const form = el('form', 'sign-in');
  form.dataset.testid = 'change-password';
  form.append(el('h2', '', t('password.title')), el('p', 'notice', t('signin.mustChange')));
  const next = input('new-password', 'password', t('password.new'), 'new-password');
  const { submit, message } = submitControls('change-password', t('password.submit'));
  form.append(next.label, submit, message);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    changePassword(currentPassword, next.input.value)
      .then(() => {
        const me = currentUser();
        form.remove();
        if (me) onChanged(me);
      })
      .catch((err: unknown) => {
        message.textContent = t('signin.failed', { message: errorText(err) });
        submit.disabled = false;
      });
  });
  root.append(form);
  next.input.focus();
}

/** A form's submit button and its error line (read aloud as an alert), addressable as `<form>-submit` / `<form>-error`. */
function submitControls(form: string, label: string): { submit: HTMLButtonElement; message: HTMLParagraphElement } {
  const submit = el('button', 'primary', label);
  submit.type = 'submit';
  submit.dataset.testid = `${form}-submit`;
  const message = el('p', 'error');
  message.dataset.testid = `${form}-error`;
  message.setAttribute('role', 'alert');
  return { submit, message };
}
