import { connectionData, connectionSecretName, generatePassword, serviceHost } from './connection.js';

test('the Secret has every documented key', () => {
  const data = connectionData({ host: serviceHost('app-db', 'shop'), port: 5432, username: 'app', password: 's3cret', dbname: 'app' });
  expect(data).toEqual({
    uri: 'postgresql://app:s3cret@app-db.shop.svc:5432/app',
    'jdbc-uri': 'jdbc:postgresql://app-db.shop.svc:5432/app?user=app&password=s3cret',
    host: 'app-db.shop.svc',
    port: '5432',
    username: 'app',
    password: 's3cret',
    dbname: 'app',
  });
  expect(connectionSecretName('app-db')).toBe('app-db-connection');
});

test("a user's password with URI characters is encoded in the URIs, verbatim elsewhere", () => {
  const data = connectionData({ host: 'h', port: 5432, username: 'app', password: 'p@ss/w:rd?&', dbname: 'app' });
  expect(data.uri).toBe('postgresql://app:p%40ss%2Fw%3Ard%3F%26@h:5432/app');
  expect(data['jdbc-uri']).toBe('jdbc:postgresql://h:5432/app?user=app&password=p%40ss%2Fw%3Ard%3F%26');
  expect(data.password).toBe('p@ss/w:rd?&');
});

test('generated passwords are long, URL-safe and different', () => {
  const [a, b] = [generatePassword(), generatePassword()];
  expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(a).not.toBe(b);
});
