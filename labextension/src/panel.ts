/**
 * The flock side panel: a stack of views over one FlockModel. Later features (lineage graph,
 * models and runs, Convert) add their views here, below the status.
 */
import { Panel, Widget } from '@lumino/widgets';

import { flockIcon } from './icons';
import { IFlockModel } from './tokens';
import { StatusView } from './views/status';

export class FlockPanel extends Panel {
  constructor(model: IFlockModel) {
    super();
    this.id = 'flock-panel';
    this.addClass('jp-FlockPanel');
    this.title.icon = flockIcon;
    this.title.caption = 'flock';
    this.addWidget(header('flock'));
    this.addWidget(new StatusView(model));
  }
}

function header(text: string): Widget {
  const widget = new Widget({ node: document.createElement('h2') });
  widget.addClass('jp-FlockPanel-header');
  widget.node.textContent = text;
  return widget;
}
