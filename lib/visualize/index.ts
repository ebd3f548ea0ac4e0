/** The feature-map visualiser: hand-crafted filters, conv -> ReLU -> pool stages, and pictures of them. */
export { FILTERS, FILTER_NAMES, resolveFilters, type FilterName, type FilterMatrix, type FilterSpec, type ResolvedFilters } from './filters.js';
export { convReluPool, type ConvReluPoolOptions, type ConvReluPoolStages } from './pipeline.js';
export { renderFeatureMaps, composeFeatureMaps, type FeatureMapOptions } from './render.js';
export { renderStages, composeStages, type StageOptions } from './stages.js';
export type { ColourMap } from './colormap.js';
export { type Composition, type Placement } from './compose.js';
export { buildHtmlReport, type ReportFigure, type ReportOptions } from './html.js';
export { loadGrayscale, type LoadGrayscaleOptions } from './load.js';
export {
  listGraphNodes,
  declaredInputShape,
  selectNode,
  selectLayer,
  listFeatureMapLayers,
  layerLabel,
  modelLayerMaps,
  composeModelLayer,
  type GraphNode,
  type FeatureMapLayer,
  type ModelLayerMaps,
} from './model-layer.js';
