// Batch inspector panel: "one batch by hand" before training — input_ids, attention_mask and labels as tables, the
// loss and per-token loss, gradient norms. It runs the trainer's own step graph; until that exists it says so.
import { useApp } from '../app-context';
import { Empty, Panel } from '../Panel';
import { selectDataset, selectModel } from '../../store/selectors';

export function BatchPanel() {
  const model = useApp(selectModel);
  const dataset = useApp(selectDataset);
  return (
    <Panel id="batch" step={4} title="Batch inspector">
      <Empty>
        One step by hand on the first batch: the tensors the model sees (input_ids, attention_mask, labels with −100),
        the loss per token and the gradient norm per trainable tensor.
      </Empty>
      <p className="muted small">
        Ready for it: {model ? <>model <code>{model.location.repo}</code></> : 'no model yet'},{' '}
        {dataset ? <>{dataset.rowCount.toLocaleString('en-US')} rows of <code>{dataset.name}</code></> : 'no dataset yet'}.
        The step graph is not built in this version yet.
      </p>
    </Panel>
  );
}
