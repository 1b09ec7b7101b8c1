// The playground page: top bar, notices, and the panel grid in the order of a run (model → data → template →
// batch → training → charts → samples → checkpoints), with the device beside them.
import { Header } from './Header';
import { Notices } from './Notices';
import { BatchPanel } from './panels/BatchPanel';
import { ChartsPanel } from './panels/ChartsPanel';
import { CheckpointsPanel } from './panels/CheckpointsPanel';
import { DataPanel } from './panels/DataPanel';
import { DevicePanel } from './panels/DevicePanel';
import { ModelPanel } from './panels/ModelPanel';
import { SamplesPanel } from './panels/SamplesPanel';
import { TemplatePanel } from './panels/TemplatePanel';
import { TrainingPanel } from './panels/TrainingPanel';
import { LessonsPanel } from './panels/LessonsPanel'; // lessons
import { OwnPromptPanel } from './panels/OwnPromptPanel'; // lessons
// share links, export/import
import { SharedLinkNotice } from './panels/SharedLinkNotice';
import { SharePanel } from './panels/SharePanel';
import { useApp } from './app-context';
// saved runs: resume after a reload
import { ResumePrompt } from './ResumePrompt';
// first visits: a short guide, dismissable and remembered
import { StartHere } from './StartHere';

export function App() {
  // share links, export/import: a config replaced from outside (link, imported zip) remounts the panels' inputs.
  const generation = useApp((s) => s.configGeneration);
  return (
    <div className="app">
      <Header />
      <Notices />
      <SharedLinkNotice />
      <ResumePrompt />
      <StartHere />
      {/* Lessons put a config on the page the way a link does; they sit outside the remounted grid to keep their state. */}
      <div className="grid">
        <LessonsPanel />
        <OwnPromptPanel />
      </div>
      <main className="grid" key={generation}>
        <ModelPanel />
        <DataPanel />
        <TemplatePanel />
        <BatchPanel />
        <TrainingPanel />
        <ChartsPanel />
        <SamplesPanel />
        <CheckpointsPanel />
        <SharePanel />
        <DevicePanel />
      </main>
    </div>
  );
}
