// How applications reach an instance: the Service's DNS name, port 5432, the owner role and its
// password. They are given to applications as the Secret <name>-connection.
import { randomBytes } from 'node:crypto';

export const POSTGRES_PORT = 5432;

export interface Connection {
  host: string;
  port: number;
  username: string;
  password: string;
  dbname: string;
}

/** Always <name>-connection, so a Workload can refer to it before it exists (see the API). */
export const connectionSecretName = (instance: string) => `${instance}-connection`;

/** The Service's name inside the cluster, resolvable from every namespace. */
export const serviceHost = (instance: string, namespace: string) => `${instance}.${namespace}.svc`;

/** 32 URL-safe characters (192 random bits): no character needs quoting in a URI, SQL or a shell. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The keys of the connection Secret, as the API documents them; with `exposed` (expose: public,
 * once the gateway allocated its port) also publicHost, publicPort and publicUri: the same server
 * through the gateway's ingress, from outside the cluster.
 */
export function connectionData(c: Connection, exposed?: { host: string; port: number }): Record<string, string> {
  const [user, password, db] = [c.username, c.password, c.dbname].map(encodeURIComponent);
  const publicKeys: Record<string, string> = exposed
    ? { publicHost: exposed.host, publicPort: String(exposed.port), publicUri: `postgresql://${user}:${password}@${exposed.host}:${exposed.port}/${db}` }
    : {};
  return {
    ...publicKeys,
    uri: `postgresql://${user}:${password}@${c.host}:${c.port}/${db}`,
    'jdbc-uri': `jdbc:postgresql://${c.host}:${c.port}/${db}?user=${user}&password=${password}`,
    host: c.host,
    port: String(c.port),
    username: c.username,
    password: c.password,
    dbname: c.dbname,
  };
}
