// The CustomResourceDefinition of a kind, built from its zod schemas and its KindDefinition.
import { CATEGORY, GROUP, VERSION } from './group.js';
import type { KindDefinition } from './kind.js';
import { toOpenAPI, type OpenAPISchema } from './openapi.js';

export function crdName(kind: KindDefinition): string {
  return `${kind.plural}.${GROUP}`;
}

/** The schema of a whole object: the usual apiVersion/kind/metadata, then spec and status. */
export function objectOpenAPI(kind: KindDefinition): OpenAPISchema {
  return {
    type: 'object',
    description: kind.description,
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description: `APIVersion defines the versioned schema of this representation of an object: ${GROUP}/${VERSION}.`,
      },
      kind: { type: 'string', description: `Kind is the type of this object: ${kind.kind}.` },
      // The apiserver owns the metadata schema and refuses a CRD that says anything about it.
      metadata: { type: 'object' },
      spec: toOpenAPI(kind.spec, `${kind.kind}.spec`),
      status: toOpenAPI(kind.status, `${kind.kind}.status`),
    },
    // At the root, the only place a rule can read metadata.name.
    'x-kubernetes-validations': kind.nameRules.map(({ check: _check, ...cel }) => cel),
  };
}

export function customResourceDefinition(kind: KindDefinition) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(kind) },
    spec: {
      group: GROUP,
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.singular,
        shortNames: kind.shortNames,
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: objectOpenAPI(kind) },
          subresources: { status: {} },
          additionalPrinterColumns: kind.printerColumns,
        },
      ],
    },
  };
}
