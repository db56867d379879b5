import { describe, expect, it } from 'vitest';
import { ApiError } from './client';
import { errorText } from './error-text';

const apiError = (status: number, code: string, message: string): ApiError => new ApiError(status, { error: { code, message } });

describe('errorText', () => {
  it('puts a Chinese summary of a known code before the server\'s message', () => {
    expect(errorText(apiError(400, 'VALIDATION_FAILED', 'Send lon and lat (or address).'))).toBe('输入有误（Send lon and lat (or address).）');
    expect(errorText(apiError(409, 'VERSION_CONFLICT', 'Grid 12 changed since version 3.'))).toBe('数据已被他人修改，请刷新后重试（Grid 12 changed since version 3.）');
  });

  it('summarises the not-found codes of particular records (DIVISION_NOT_FOUND, GRID_NOT_FOUND, …) as not found', () => {
    expect(errorText(apiError(404, 'DIVISION_NOT_FOUND', 'Community 999999999999 does not exist.'))).toBe('未找到（Community 999999999999 does not exist.）');
    expect(errorText(apiError(404, 'GRID_NOT_FOUND', 'Grid 7 does not exist.'))).toBe('未找到（Grid 7 does not exist.）');
    expect(errorText(apiError(404, 'LAYOUT_NOT_FOUND', 'Layout 9 does not exist.'))).toBe('未找到（Layout 9 does not exist.）');
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
