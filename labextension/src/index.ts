/**
 * flock-nbext's JupyterLab plugins: the model (comm with the active notebook's kernel) and
 * the left side panel that renders it. This file only wires them together.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';

import { FlockModel } from './model';
import { FlockPanel } from './panel';
import { IFlockModel } from './tokens';

const modelPlugin: JupyterFrontEndPlugin<IFlockModel> = {
  id: 'flock-nbext:model',
  description: 'Follows the active notebook and talks to flock in its kernel.',
  autoStart: true,
  requires: [INotebookTracker],
  provides: IFlockModel,
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker): IFlockModel =>
    new FlockModel(tracker)
};

const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: 'flock-nbext:panel',
  description: 'The flock tab in the left sidebar.',
  autoStart: true,
  requires: [IFlockModel],
  optional: [ILayoutRestorer],
  activate: (app: JupyterFrontEnd, model: IFlockModel, restorer: ILayoutRestorer | null) => {
    const panel = new FlockPanel(model);
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, panel.id);
  }
};

export default [modelPlugin, panelPlugin];
export { IFlockModel } from './tokens';
