// An experiment's options as form fields, made from its descriptor: the CLI's flags with the
// CLI's defaults, each a labelled input; a bad value is one sentence naming the field as the
// page labels it, and the engine's sentences about "--flag" are rewritten with the label.
import type { AnyExperiment } from '../../src/experiments/types.ts';
import { formatValue, parseOption, type OptionSpec, type OptionValue } from '../../src/experiments/options.ts';
import type { RunSpec } from '../protocol.ts';
import { el } from './dom.ts';

export class OptionsError extends Error {
  override name = 'OptionsError';
  constructor(
    message: string,
    /** The input to focus. */
    readonly input?: HTMLElement,
  ) {
    super(message);
  }
}

const sentence = (text: string): string => (/[.!?]$/.test(text) ? text : `${text}.`);

/** An option's input: a select for a choice, a checkbox for a switch, else text holding `value` (nothing where it is undefined). */
export function optionInput(o: OptionSpec, id: string, value: unknown): HTMLInputElement | HTMLSelectElement {
  if (o.type === 'choice') {
    const select = el('select', { id, name: o.key });
    for (const c of o.choices) select.append(el('option', { value: c }, c));
    select.value = String(value);
    return select;
  }
  if (o.type === 'bool') {
    const box = el('input', { id, name: o.key, type: 'checkbox' });
    box.checked = value === true;
    return box;
  }
  const input = el('input', { id, name: o.key, type: 'text', inputmode: o.type === 'list' || o.type === 'names' ? 'text' : o.type === 'int' ? 'numeric' : 'decimal', autocomplete: 'off', spellcheck: 'false' });
  input.value = value === undefined ? '' : formatValue(value);
  return input;
}

/** An experiment's rendered fields: the inputs by config key, ids `<experiment>-<key>`. */
export class OptionsForm {
  private readonly inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();

  constructor(
    private readonly ex: AnyExperiment,
    container: HTMLElement,
  ) {
    const main = el('div', { class: 'fields' });
    const moreBody = el('div', { class: 'fields' });
    for (const o of ex.options) (o.more ? moreBody : main).append(this.field(o));
    const more = el('details', { class: 'more' }, el('summary', {}, 'More options'), moreBody);
    container.append(main, more);
  }

  private field(o: OptionSpec): HTMLElement {
    const id = `${this.ex.name}-${o.key}`;
    const value = (this.ex.defaults as Record<string, unknown>)[o.key];
    const input = optionInput(o, id, value);
    input.dataset.flag = o.flag;
    this.inputs.set(o.key, input);
    const hintText =
      o.type === 'bool'
        ? `${o.negated ? 'unchecked is ' : ''}--${o.flag}${o.hint ? `: ${o.hint}` : ''}`
        : `default ${formatValue(value)}; --${o.flag}${o.hint ? `; ${o.hint}` : ''}`;
    const hint = el('span', { class: 'hint', id: `${id}-hint` }, hintText);
    input.setAttribute('aria-describedby', hint.id);
    const label = el('label', { for: id }, o.label);
    return el('div', { class: o.type === 'bool' ? 'field check' : 'field' }, ...(o.type === 'bool' ? [input, label] : [label, input]), hint);
  }

  private input(key: string): HTMLInputElement | HTMLSelectElement {
    const i = this.inputs.get(key);
    if (!i) throw new Error(`no field ${key}`);
    return i;
  }

  /** The run these fields describe: every field parsed, then the whole config checked by the experiment. */
  spec(): RunSpec {
    const values: Record<string, OptionValue> = {};
    for (const o of this.ex.options) {
      const input = this.input(o.key);
      if (o.type === 'bool') {
        values[o.key] = (input as HTMLInputElement).checked;
        continue;
      }
      try {
        values[o.key] = parseOption(o, input.value, o.label);
      } catch (err) {
        throw new OptionsError(sentence(err instanceof Error ? err.message : String(err)), input);
      }
    }
    const config = { ...this.ex.defaults, ...values };
    try {
      this.ex.checkConfig(config);
    } catch (err) {
      throw this.explain(err instanceof Error ? err.message : String(err));
    }
    return { experiment: this.ex.name, config };
  }

  /** Rewrites the engine's "--flag" in a message as the field's label, and finds the field. */
  explain(message: string): OptionsError {
    let input: HTMLElement | undefined;
    let text = message;
    for (const o of this.ex.options) {
      const flag = `--${o.flag}`;
      if (text.includes(flag)) {
        input ??= this.input(o.key);
        text = text.split(flag).join(o.label);
      }
    }
    return new OptionsError(sentence(text), input);
  }
}
