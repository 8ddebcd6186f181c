/**
 * Static checks of infra/helm/k1s0-service (no helm binary here, and no template engine written):
 * Chart.yaml fields, values files parse, every `.Values.…` path the templates read is declared in
 * the chart's values.yaml, every key a service's values file sets is one the chart declares, the
 * template delimiters balance, and the settings the issue names are present.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { imageNodeArgs } from '../../scripts/build-image-tree.js';

const helmDir = fileURLToPath(new URL('../helm', import.meta.url));
const chartDir = join(helmDir, 'k1s0-service');
const templatesDir = join(chartDir, 'templates');
const SERVICES = ['config-server', 'event-store'] as const;
/** Free-form maps: their keys are the user's (env names, annotations, config.yaml). */
const FREE_FORM = new Set([
  'env',
  'secretEnv',
  'podAnnotations',
  'config',
  'resources',
  'vault.extraSecrets',
]);

type Tree = Record<string, unknown>;
const isTree = (value: unknown): value is Tree =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function readYaml(file: string): Tree {
  const parsed: unknown = parse(readFileSync(file, 'utf8'));
  if (!isTree(parsed)) throw new Error(`${file} is not a mapping`);
  return parsed;
}

const templates = readdirSync(templatesDir).map((name) => ({
  name,
  text: readFileSync(join(templatesDir, name), 'utf8'),
}));
const defaults = readYaml(join(chartDir, 'values.yaml'));

function has(tree: Tree, path: readonly string[]): boolean {
  let node: unknown = tree;
  for (const segment of path) {
    if (!isTree(node) || !(segment in node)) return false;
    node = node[segment];
  }
  return true;
}

/** Dotted paths of every leaf (and free-form map) a values file sets. */
function keyPaths(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isTree(value) && !FREE_FORM.has(path) && Object.keys(value).length > 0
      ? keyPaths(value, path)
      : [path];
  });
}

describe('Helm chart k1s0-service', () => {
  it('Chart.yaml is a v2 application chart with a name, version and appVersion', () => {
    const chart = readYaml(join(chartDir, 'Chart.yaml'));
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'k1s0-service', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(typeof chart.appVersion).toBe('string');
  });

  it('has the templates the issue lists', () => {
    expect(templates.map((t) => t.name).sort()).toEqual([
      '_helpers.tpl',
      'configmap.yaml',
      'deployment.yaml',
      'hpa.yaml',
      'migration-job.yaml',
      'pdb.yaml',
      'service.yaml',
      'servicemonitor.yaml',
    ]);
  });

  it('every template delimiter is balanced and every action is closed', () => {
    for (const { name, text } of templates) {
      const opens = text.match(/\{\{/g)?.length ?? 0;
      const closes = text.match(/\}\}/g)?.length ?? 0;
      expect({ name, closes }).toEqual({ name, closes: opens });
      const blocks = text.match(/\{\{-?\s*(if|range|with|define)\b/g)?.length ?? 0;
      const ends = text.match(/\{\{-?\s*end\b/g)?.length ?? 0;
      expect({ name, ends }).toEqual({ name, ends: blocks });
    }
  });

  it('every .Values path a template reads is declared in values.yaml', () => {
    const read = new Set(
      templates.flatMap(({ text }) => [...text.matchAll(/\.Values((?:\.\w+)+)/g)].map((m) => m[1]!)),
    );
    expect(read.size).toBeGreaterThan(20);
    const missing = [...read].filter((path) => !has(defaults, path.slice(1).split('.')));
    expect(missing).toEqual([]);
  });

  it.each(SERVICES)('%s values: parse, and set only keys the chart declares', (service) => {
    const values = readYaml(join(helmDir, service, 'values.yaml'));
    const unknown = keyPaths(values).filter((path) => !has(defaults, path.split('.')));
    expect(unknown).toEqual([]);
    expect(values.app).toMatchObject({ name: service });
  });

  it.each(SERVICES)(
    '%s values: probes, non-root read-only pod, grace period above the shutdown timeout',
    (service) => {
      const values = { ...defaults, ...readYaml(join(helmDir, service, 'values.yaml')) } as Tree;
      expect(values.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'http' } });
      expect(values.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'http' } });
      expect(values.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(values.containerSecurityContext).toMatchObject({ readOnlyRootFilesystem: true });
      // server.shutdown_timeout is 10 s in both services' config.yaml.
      expect(values.terminationGracePeriodSeconds).toBeGreaterThan(10);
      const packaged = readYaml(
        fileURLToPath(new URL(`../../apps/${service}/config/config.yaml`, import.meta.url)),
      );
      expect(values.container).toEqual({
        port: (packaged.server as Tree).port,
        grpcPort: (packaged.grpc as Tree).port,
      });
    },
  );

  it("the container's node flags are the image CMD's (infra/docker/Dockerfile), in order", () => {
    // The V8 heap flags there bound the services' RSS (docs/DECISIONS.md "RSS (issue 11)"); a chart
    // that restated other flags would run the pods with a different memory profile than measured.
    const helpers = templates.find((t) => t.name === '_helpers.tpl')!.text;
    const block = /define "k1s0-service\.args" -\}\}\n([\s\S]*?)\{\{-/.exec(helpers)?.[1] ?? '';
    const args = block
      .split('\n')
      .filter((line) => line.startsWith('- '))
      .map((line) => line.slice(2));
    expect(args).toEqual(imageNodeArgs());
  });

  it('the Deployment mounts an emptyDir on /tmp, the Service names both ports with appProtocol', () => {
    const deployment = templates.find((t) => t.name === 'deployment.yaml')!.text;
    expect(deployment).toMatch(/mountPath: \/tmp/);
    expect(deployment).toMatch(/emptyDir: \{\}/);
    const service = templates.find((t) => t.name === 'service.yaml')!.text;
    expect(service).toMatch(/appProtocol: http\n/);
    expect(service).toMatch(/appProtocol: kubernetes\.io\/h2c/);
  });

  it('the config-server ConfigMap content is a config.yaml the service accepts', async () => {
    const { configServerConfigSchema } = await import('../../apps/config-server/src/config.js');
    const values = readYaml(join(helmDir, 'config-server', 'values.yaml'));
    const parsed = configServerConfigSchema.safeParse(values.config);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });
});
