// Effective config (GET /v1/config, secrets already redacted by the server) as YAML-like text.
import { api } from '../api.js';
import { $, h, yaml } from '../dom.js';

const state = { config: null };

export default {
  title: () => 'Config',
  poll: false,
  mount(root) {
    root.append(
      h(
        'section',
        { 'aria-labelledby': 'h-config' },
        h('h2', { id: 'h-config' }, 'Effective config'),
        h(
          'p',
          { class: 'muted' },
          'As gaffer runs it, defaults filled in; secrets are shown as [redacted].',
        ),
        h('pre', { id: 'config-text', class: 'config' }),
      ),
    );
  },
  async load() {
    state.config = await api('/v1/config');
  },
  render() {
    $('#config-text').textContent = yaml(state.config).trim();
  },
};
