import { describe, expect, it } from 'vitest';
import { ApiError } from './client';
import { errorText } from './error-text';

const apiError = (status: number, code: string, message: string): ApiError => new ApiError(status, { error: { code, message } });

describe('errorText', () => {
  it('puts a Chinese summary of a known code before the server\'s message', () => {
    expect(errorText(apiError(400, 'VALIDATION_FAILED', 'Send lon and lat (or address).'))).toBe('输入有误（Send lon and lat (or address).）');
    expect(errorText(apiError(409, 'VERSION_CONFLICT', 'Grid 12 changed since version 3.'))).toBe('数据已被他人修改，请刷新后重试（Grid 12 changed since version 3.）');
  });

  it('shows the server\'s message as it is for a code it does not know, and other errors by their message', () => {
    expect(errorText(apiError(422, 'SOMETHING_NEW', 'A new kind of refusal.'))).toBe('A new kind of refusal.');
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('plain')).toBe('plain');
  });

  it('says when the server cannot be reached', () => {
    expect(errorText(new TypeError('fetch failed'))).toBe('无法连接服务器，请检查网络后重试');
  });
});
