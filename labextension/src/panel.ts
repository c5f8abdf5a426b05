/**
 * The flock side panel: a stack of views over one FlockModel. Later features (lineage graph,
 * models and runs, Convert) add their views here, below the status.
 */
import { Panel } from '@lumino/widgets';

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
    const header = document.createElement('h2');
    header.className = 'jp-FlockPanel-header';
    header.textContent = 'flock';
    this.node.appendChild(header);
    this.addWidget(new StatusView(model));
  }
}
