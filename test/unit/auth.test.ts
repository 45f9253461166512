import { hashPassword, verifyPassword } from '../../shared/auth/passwords';
import { TokenService } from '../../shared/auth/tokens';
import { UnauthorizedError } from '../../shared/errors';

const SECRET = 'x'.repeat(32);
const caller = { userId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', email: 'a@b.c', isAdmin: true };

describe('passwords', () => {
  test('scrypt hash verifies, salts differ, never contains the password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong', a)).toBe(false);
  });

  test('malformed hashes never verify', async () => {
    for (const h of [undefined, null, '', 'plain', 'scrypt$1$1$1$x', 'scrypt$99999999$8$1$AA==$AA==', 12]) {
      expect(await verifyPassword('x', h)).toBe(false);
    }
  });
});

describe('tokens', () => {
  test('round trip', () => {
    const t = new TokenService(SECRET);
    expect(t.verify(t.issue(caller).token)).toEqual(caller);
  });

  test('forged, tampered, malformed and expired tokens are refused', () => {
    let now = 1_000_000_000_000;
    const t = new TokenService(SECRET, 60, () => now);
    const token = t.issue(caller).token;
    expect(() => new TokenService('y'.repeat(32)).verify(token)).toThrow(UnauthorizedError);
    const [h, , s] = token.split('.');
    const evil = Buffer.from(
      JSON.stringify({ sub: caller.userId, email: 'a@b.c', adm: true, iss: 'xos', exp: 9e12 }),
    ).toString('base64url');
    expect(() => t.verify(`${h}.${evil}.${s}`)).toThrow('invalid token');
    for (const bad of ['', 'a.b', 'a.b.c', `${token}x`]) expect(() => t.verify(bad)).toThrow(UnauthorizedError);
    now += 61_000;
    expect(() => t.verify(token)).toThrow('token expired');
  });

  test('refuses short secrets', () => {
    expect(() => new TokenService('short')).toThrow();
  });
});
