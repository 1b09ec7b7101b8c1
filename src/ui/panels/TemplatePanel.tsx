// Template & masks panel: for now, what the tokenizer files say — the chat template verbatim and the special tokens —
// plus facts worth a warning (no template, pad = eos). Token-level mask colouring plugs in here with the data layer.
import { useApp } from '../app-context';
import { Empty, Facts, Panel } from '../Panel';
import { selectModel } from '../../store/selectors';

export function TemplatePanel() {
  const model = useApp(selectModel);
  const tok = model?.tokenizer;
  return (
    <Panel id="template" step={3} title="Template & masks">
      {!tok ? (
        <Empty>The chat template appears here once a model is loaded.</Empty>
      ) : (
        <>
          <Facts
            rows={[
              ['tokenizer', tok.tokenizerClass ?? (tok.hasTokenizerJson ? 'tokenizer.json' : 'missing')],
              ['bos_token', <code key="b">{tok.bosToken ?? 'none'}</code>],
              ['eos_token', <code key="e">{tok.eosToken ?? 'none'}</code>],
              ['pad_token', <code key="p">{tok.padToken ?? 'none'}</code>],
            ]}
          />
          {tok.padToken !== null && tok.padToken === tok.eosToken && (
            <p className="warn small">pad_token equals eos_token: a collator that masks padding by id would also mask every EOS.</p>
          )}
          {!tok.hasTokenizerJson && <p className="warn small">This repo has no tokenizer.json; TabTune needs it to tokenize.</p>}
          {tok.chatTemplate ? (
            <details className="template" open>
              <summary>chat_template ({tok.chatTemplate.length.toLocaleString('en-US')} characters)</summary>
              <pre data-testid="chat-template">{tok.chatTemplate}</pre>
            </details>
          ) : (
            <p className="warn small">No chat_template in tokenizer_config.json: chat data needs a template you supply (e.g. Alpaca).</p>
          )}
        </>
      )}
    </Panel>
  );
}
