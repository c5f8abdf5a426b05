/**
 * The flock side panel: the status (which notebook, is flock loaded) on top, then the
 * Lineage and Models views, one shown at a time behind two tabs.
 */
import { Panel, Widget } from '@lumino/widgets';

import { flockIcon } from './icons';
import { IFlockModel } from './tokens';
import { LineageView } from './views/lineage';
import { ModelsView } from './views/models';
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
    const views: Array<[string, Widget]> = [
      ['Lineage', new LineageView(model)],
      ['Models', new ModelsView(model)]
    ];
    this.addWidget(new ViewTabs(views));
    for (const [, view] of views) {
      this.addWidget(view);
    }
  }
}

/** A row of tabs that shows one of the views and hides the others. */
class ViewTabs extends Widget {
  constructor(views: Array<[string, Widget]>) {
    super();
    this.addClass('jp-FlockTabs');
    this.node.setAttribute('role', 'tablist');
    this._views = views;
    for (const [name] of views) {
      const tab = document.createElement('button');
      tab.className = 'jp-FlockTabs-tab';
      tab.textContent = name;
      tab.setAttribute('role', 'tab');
      tab.dataset.testid = `flock-tab-${name.toLowerCase()}`;
      tab.addEventListener('click', () => this.select(name));
      this.node.appendChild(tab);
    }
    this.select(views[0][0]);
  }

  select(name: string): void {
    this._views.forEach(([viewName, view], i) => {
      const selected = viewName === name;
      view.setHidden(!selected);
      this.node.children[i].setAttribute('aria-selected', String(selected));
    });
  }

  private _views: Array<[string, Widget]>;
}

function header(text: string): Widget {
  const widget = new Widget({ node: document.createElement('h2') });
  widget.addClass('jp-FlockPanel-header');
  widget.node.textContent = text;
  return widget;
}
