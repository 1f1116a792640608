// The CA that client certificates presented to a kubelet are verified against: the apiserver's
// --client-ca-file, which it publishes for delegated authentication.
import * as k8s from '@kubernetes/client-node';

/** The client CA bundle, PEM, from ConfigMap kube-system/extension-apiserver-authentication. */
export async function readClientCa(kc: k8s.KubeConfig): Promise<string> {
  const cm = await kc.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({
    namespace: 'kube-system',
    name: 'extension-apiserver-authentication',
  });
  const ca = cm.data?.['client-ca-file'];
  if (!ca) {
    throw new Error('ConfigMap kube-system/extension-apiserver-authentication has no client-ca-file: the apiserver runs without --client-ca-file');
  }
  return ca;
}
