// TensorBoard's text plugin summary, bytes only: the TEXT tab renders its string as markdown.
// Encoded by hand as tensorboard.ts encodes the Event, the way PyTorch's SummaryWriter.add_text
// writes it (tag suffixed "/text_summary"), from tensorboard's summary.proto, tensor.proto and
// tensor_shape.proto:
//   Summary.Value     { string tag = 1; TensorProto tensor = 8; SummaryMetadata metadata = 9; }
//   SummaryMetadata   { PluginData plugin_data = 1; }   PluginData { string plugin_name = 1; bytes content = 2; }
//   TensorProto       { DataType dtype = 1; TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }
//   TensorShapeProto  { repeated Dim dim = 2; }   Dim { int64 size = 1; }
// The plugin's content (TextPluginData, version 0) encodes to no bytes and is left out.
import { ProtoWriter } from './tensorboard.ts';

export const TEXT_PLUGIN = 'text';
/** The tag a run's config is logged under (TensorBoard shows `config/text_summary`). */
export const CONFIG_TAG = 'config';
/** types.proto's DT_STRING. */
const DT_STRING = 7;

/** The Summary.Value of add_text(tag, text): a string tensor of shape [1] for the text plugin. */
export function textValue(tag: string, text: string): Uint8Array {
  const dim = new ProtoWriter();
  dim.int64(1, 1);
  const shape = new ProtoWriter();
  shape.lengthDelimited(2, dim.finish());
  const tensor = new ProtoWriter();
  tensor.int64(1, DT_STRING);
  tensor.lengthDelimited(2, shape.finish());
  tensor.string(8, text);
  const pluginData = new ProtoWriter();
  pluginData.string(1, TEXT_PLUGIN);
  const metadata = new ProtoWriter();
  metadata.lengthDelimited(1, pluginData.finish());
  const value = new ProtoWriter();
  value.string(1, `${tag}/text_summary`);
  value.lengthDelimited(8, tensor.finish());
  value.lengthDelimited(9, metadata.finish());
  return value.finish();
}
