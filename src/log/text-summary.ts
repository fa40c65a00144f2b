// TensorBoard's text plugin summary, bytes only: a run's config shown under TensorBoard's TEXT
// tab. Encoded as PyTorch's SummaryWriter.add_text writes it (proto3, fields in number order),
// from tensorboard/compat/proto/{summary,tensor,tensor_shape}.proto:
//   Summary.Value    { string tag = 1; TensorProto tensor = 8; SummaryMetadata metadata = 9; }
//   SummaryMetadata  { PluginData plugin_data = 1; }   PluginData { string plugin_name = 1; }
//   TensorProto      { DataType dtype = 1; TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }
//   TensorShapeProto { repeated Dim dim = 2; }   Dim { int64 size = 1; }
// The text is markdown.
import { ProtoWriter } from './tensorboard.ts';

export const TEXT_PLUGIN = 'text';
/** types.proto's DT_STRING. */
const DT_STRING = 7;

/** A Summary.Value holding `markdown` as a one-element string tensor for the text plugin. */
export function textValue(tag: string, markdown: string): Uint8Array {
  const dim = new ProtoWriter();
  dim.int64(1, 1);
  const shape = new ProtoWriter();
  shape.lengthDelimited(2, dim.finish());
  const tensor = new ProtoWriter();
  tensor.int64(1, DT_STRING);
  tensor.lengthDelimited(2, shape.finish());
  tensor.string(8, markdown);
  const pluginData = new ProtoWriter();
  pluginData.string(1, TEXT_PLUGIN);
  const metadata = new ProtoWriter();
  metadata.lengthDelimited(1, pluginData.finish());
  const value = new ProtoWriter();
  value.string(1, tag);
  value.lengthDelimited(8, tensor.finish());
  value.lengthDelimited(9, metadata.finish());
  return value.finish();
}

/** A config as a two-column markdown table (TensorBoard renders it): option, value. */
export function configMarkdown(values: Record<string, string>): string {
  const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return ['| option | value |', '| --- | --- |', ...Object.entries(values).map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`)].join('\n');
}
