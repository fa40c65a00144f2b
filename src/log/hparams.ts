// TensorBoard's HParams plugin summaries, bytes only: with them `tensorboard --logdir` shows a
// sweep's runs in its HParams table and parallel-coordinates view. Each run writes its
// hyperparameters when it starts and its status when it ends; the sweep's logdir holds the
// experiment (which hyperparameters and metrics the table shows). The metrics themselves are the
// runs' scalars. Encoded by hand, as tensorboard.ts encodes the Event (proto3, fields in number
// order, defaults omitted), from tensorboard/plugins/hparams/{plugin_data,api}.proto and
// google/protobuf/struct.proto:
//   Summary.Value     { string tag = 1; SummaryMetadata metadata = 9; }
//   SummaryMetadata   { PluginData plugin_data = 1; }   PluginData { string plugin_name = 1; bytes content = 2; }
//   HParamsPluginData { int32 version = 1; oneof data { Experiment experiment = 2;
//                       SessionStartInfo session_start_info = 3; SessionEndInfo session_end_info = 4; } }
//   SessionStartInfo  { map<string, google.protobuf.Value> hparams = 1; string group_name = 4; double start_time_secs = 5; }
//   SessionEndInfo    { Status status = 1; double end_time_secs = 2; }
//   Experiment        { double time_created_secs = 3; repeated HParamInfo hparam_infos = 4; repeated MetricInfo metric_infos = 5; }
//   HParamInfo        { string name = 1; DataType type = 4; oneof domain { ListValue domain_discrete = 5; } }
//   MetricInfo        { MetricName name = 1; DatasetType dataset_type = 5; }   MetricName { string group = 1; string tag = 2; }
//   Value             { oneof kind { double number_value = 2; string string_value = 3; bool bool_value = 4; } }
//   ListValue         { repeated Value values = 1; }
// The Summary.Value carries no tensor, as PyTorch's SummaryWriter writes it: TensorBoard gives
// hparams values without one its own null tensor when it reads them (dataclass_compat.py).
import { ProtoWriter } from './tensorboard.ts';

export const HPARAMS_PLUGIN = 'hparams';
export const EXPERIMENT_TAG = '_hparams_/experiment';
export const SESSION_START_TAG = '_hparams_/session_start_info';
export const SESSION_END_TAG = '_hparams_/session_end_info';

export type HParamValue = number | string | boolean;

/** api.proto's Status. */
export const STATUS = { unknown: 0, success: 1, failure: 2, running: 3 } as const;
/** api.proto's DataType. */
const DATA_TYPE = { string: 1, boolean: 2, number: 3 } as const;
/** api.proto's DatasetType. */
export const DATASET = { unknown: 0, training: 1, validation: 2 } as const;

/** google.protobuf.Value: the oneof's field is written even when it holds 0, "" or false. */
function protoValue(v: HParamValue): Uint8Array {
  const w = new ProtoWriter();
  if (typeof v === 'number') w.double(2, v);
  else if (typeof v === 'string') w.string(3, v);
  else w.int64(4, v ? 1 : 0);
  return w.finish();
}

/** A Summary.Value carrying HParamsPluginData (version 0, omitted) with its oneof field `field` set. */
function pluginValue(tag: string, field: 2 | 3 | 4, data: Uint8Array): Uint8Array {
  const content = new ProtoWriter();
  content.lengthDelimited(field, data);
  const pluginData = new ProtoWriter();
  pluginData.string(1, HPARAMS_PLUGIN);
  pluginData.lengthDelimited(2, content.finish());
  const metadata = new ProtoWriter();
  metadata.lengthDelimited(1, pluginData.finish());
  const value = new ProtoWriter();
  value.string(1, tag);
  value.lengthDelimited(9, metadata.finish());
  return value.finish();
}

/** A run's hyperparameters as it starts; `group` names runs that differ only in seed. */
export function sessionStartValue(hparams: Record<string, HParamValue>, startTimeSecs: number, group = ''): Uint8Array {
  const info = new ProtoWriter();
  for (const [name, v] of Object.entries(hparams)) {
    const entry = new ProtoWriter();
    entry.string(1, name);
    entry.lengthDelimited(2, protoValue(v));
    info.lengthDelimited(1, entry.finish());
  }
  if (group !== '') info.string(4, group);
  if (startTimeSecs !== 0) info.double(5, startTimeSecs);
  return pluginValue(SESSION_START_TAG, 3, info.finish());
}

/** How a run ended. */
export function sessionEndValue(status: (typeof STATUS)[keyof typeof STATUS], endTimeSecs: number): Uint8Array {
  const info = new ProtoWriter();
  if (status !== 0) info.int64(1, status);
  if (endTimeSecs !== 0) info.double(2, endTimeSecs);
  return pluginValue(SESSION_END_TAG, 4, info.finish());
}

export interface HParamInfo {
  name: string;
  /** The values the sweep gives it: the table's filter. */
  values: HParamValue[];
}

export interface MetricInfo {
  tag: string;
  dataset?: (typeof DATASET)[keyof typeof DATASET];
}

/** The experiment: the hyperparameters and metrics the HParams table has columns for. */
export function experimentValue(hparams: readonly HParamInfo[], metrics: readonly MetricInfo[], timeCreatedSecs: number): Uint8Array {
  const ex = new ProtoWriter();
  if (timeCreatedSecs !== 0) ex.double(3, timeCreatedSecs);
  for (const h of hparams) {
    const kinds = new Set(h.values.map((v) => typeof v));
    if (kinds.size > 1) throw new TypeError(`hparam ${h.name}: values of one type only, got ${[...kinds].join(' and ')}`);
    const info = new ProtoWriter();
    info.string(1, h.name);
    const kind = [...kinds][0] as keyof typeof DATA_TYPE | undefined;
    if (kind) info.int64(4, DATA_TYPE[kind]);
    const list = new ProtoWriter();
    for (const v of h.values) list.lengthDelimited(1, protoValue(v));
    info.lengthDelimited(5, list.finish());
    ex.lengthDelimited(4, info.finish());
  }
  for (const m of metrics) {
    const name = new ProtoWriter();
    name.string(2, m.tag); // group "" (the run itself) is the default
    const info = new ProtoWriter();
    info.lengthDelimited(1, name.finish());
    if (m.dataset) info.int64(5, m.dataset);
    ex.lengthDelimited(5, info.finish());
  }
  return pluginValue(EXPERIMENT_TAG, 2, ex.finish());
}
