/** The sign-in form shown in the panel while nobody is signed in. */
import type { Me } from '@contracts/auth';
import { ApiError } from '../api/client';
import { t } from '../i18n/i18n';
import { el } from '../ui/dom';
import { signIn } from './session';

export function mountSignInForm(root: HTMLElement, onSignedIn: (me: Me) => void, notice?: string): () => void {
  const form = el('form', 'sign-in');
  form.dataset.testid = 'sign-in';
  form.append(el('h2', '', t('signin.title')));
  if (notice) form.append(el('p', 'notice', notice));
  const user = input('username', 'text', t('signin.username'), 'username');
  const pass = input('password', 'password', t('signin.password'), 'current-password');
  const submit = el('button', 'primary', t('signin.submit'));
  submit.type = 'submit';
  submit.dataset.testid = 'sign-in-submit';
  const message = el('p', 'error');
  message.dataset.testid = 'sign-in-error';
  message.setAttribute('role', 'alert');
  form.append(user.label, pass.label, submit, message);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = t('signin.busy');
    message.textContent = '';
    signIn(user.input.value.trim(), pass.input.value)
      .then((me) => {
        if (me.mustChangePassword) message.textContent = t('signin.mustChange');
        onSignedIn(me);
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
  return t('signin.failed', { message: err instanceof Error ? err.message : String(err) });
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
