/**
 * Grid editor (planners, issue #10): pick district → street → community, see its boundary, buildings
 * by household count, roads and the layout; open or create a draft; draw, reshape, split, merge,
 * delete, snap and clip grids with undo/redo; balance and validation panels; save with optimistic
 * concurrency; publish after the re-division impact preview. See editor.ts.
 */
import type { View } from '../view';
import { Editor } from './editor';
import './editor.css';

export const view: View = {
  id: 'editor',
  roles: ['planner'],
  mount(ctx) {
    const editor = new Editor(ctx);
    return () => editor.destroy();
  },
};
