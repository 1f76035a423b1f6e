import { join } from 'node:path';
import { checkedModelInput, fixedImageSize, formatDims, processWarnings, readModelFile, type BackendLog, type ModelFile, type ModelInput } from '@iev/inference-backends';
import { formatProfile, profileForPreset } from '@iev/tensorrt-backend';
import { customizePreset, getPreset, type DetectionPreset, type PresetOverrides } from '@iev/text-detection';
import { selectBackend, type BackendSelection } from './backend-selection';
import { TextDetector } from './text-detector';

export interface DetectorLoading extends Omit<BackendSelection, 'preset' | 'modelPath'> {
  preset: string;
  overrides?: PresetOverrides;
  /** MODEL_PATH; unset: the preset's own model in `modelsDir`. */
  modelPath?: string;
  /** Where the presets' models are (default models/, relative to the working directory). */
  modelsDir?: string;
  /** The setting that names the model, for errors about its file (default MODEL_PATH; the CLI's --model). */
  modelVariable?: string;
}

/** The detection model a preset runs: MODEL_PATH when set, else the preset's own model file. */
export function detectionModelPath(preset: DetectionPreset, modelPath?: string, modelsDir = 'models'): string {
  return modelPath ?? join(modelsDir, preset.modelFile);
}

/** Picks the backend, loads the model and returns a detector for the named preset: what every caller needs. */
export async function loadTextDetector(options: DetectorLoading): Promise<TextDetector> {
  const { preset, modelPath, modelFile, modelInput } = await presetOnModel(options, options.batch ?? 1);
  const backend = selectBackend({ ...options, preset, modelPath, modelFile });
  await backend.load();
  return new TextDetector(backend, preset, modelPath, options.batch, modelInput);
}

/**
 * Applies new settings to a running detector (a module twin patch). Settings the model cannot take (limitSideLen on
 * one whose input is fixed) are refused, the detector unchanged. Settings the running backend cannot take (see
 * runsOnBackendAsBuilt) load another one first and then swap it in: frames already in the old one finish there, and
 * the old one is released after.
 */
export async function reconfigureDetector(detector: TextDetector, options: DetectorLoading): Promise<void> {
  const { preset, modelPath, modelFile, modelInput } = await presetOnModel(options, detector.maxBatch, detector);
  if (modelPath === detector.modelPath && runsOnBackendAsBuilt(detector, preset, options)) return detector.configure(preset);
  // Read here where the running input was known: errors about the file then say where its path came from.
  const backend = selectBackend({ ...options, preset, modelPath, modelFile: modelFile ?? (await readDetectionModel(options, modelPath)), batch: detector.maxBatch });
  await backend.load();
  await detector.switchModel(backend, preset, modelPath, modelInput);
}

/** A preset as it runs on its model (see customizePreset), with that model's path and input, and its file where it was read. */
interface PresetOnModel {
  preset: DetectionPreset;
  modelPath: string;
  modelFile?: ModelFile;
  modelInput: ModelInput;
}

/**
 * The named preset with its overrides, fitted to the model it runs. That model's input is the running detector's
 * (`running`) where it is the same file, else read from the file: another model may fix its size, or stop fixing it.
 */
async function presetOnModel(options: DetectorLoading, batch: number, running?: Pick<TextDetector, 'modelPath' | 'modelInput'>): Promise<PresetOnModel> {
  const modelPath = detectionModelPath(getPreset(options.preset), options.modelPath, options.modelsDir);
  const fitted = (modelInput: ModelInput) => customizePreset(options.preset, options.overrides ?? {}, fixedImageSize(modelInput));
  const known = modelPath === running?.modelPath ? running.modelInput : undefined;
  if (known) return { preset: fitted(known), modelPath, modelInput: known };
  const modelFile = await readDetectionModel(options, modelPath);
  const modelInput = checkedDetectionInput(modelFile, batch, options.log ?? processWarnings);
  return { preset: fitted(modelInput), modelPath, modelFile, modelInput };
}

/** The detection model's file: MODEL_PATH's (or the CLI's --model), or the preset's own where that is unset. */
function readDetectionModel(options: DetectorLoading, modelPath: string): Promise<ModelFile> {
  return readModelFile(modelPath, options.modelVariable, options.modelPath === undefined ? options.preset : undefined);
}

/**
 * A detection model's input as its file declares it, read before any backend is chosen: refused where frames cannot
 * be fed to it (inputRefusal, which ONNX Runtime's worker also applies to its session; TensorRT's engine build gets
 * only this), and said once where it fixes the size every frame is resized to.
 */
function checkedDetectionInput(modelFile: ModelFile, batch: number, log: BackendLog): ModelInput {
  const input = checkedModelInput(modelFile, { batch, frames: true });
  const size = fixedImageSize(input);
  if (size) log.info(`${modelFile.path}: its input ${input.name} is fixed at ${formatDims(input.dims)}, so every frame is resized to ${size.width}x${size.height} (the preset's own resize does not apply)`);
  return input;
}

/**
 * Whether the detector's backend, running the same model, runs the preset as it is: on TensorRT, with an engine built
 * for the inputs the preset feeds it. Without TENSORRT_PROFILE the engine's profile is the start-up preset's, and
 * another preset or a larger limitSideLen feeds sizes outside it, which the engine would refuse frame after frame.
 */
function runsOnBackendAsBuilt(detector: TextDetector, preset: DetectionPreset, options: DetectorLoading): boolean {
  if (detector.backend.name !== 'tensorrt' || options.tensorRtProfile) return true;
  return formatProfile(profileForPreset(preset)) === formatProfile(profileForPreset(detector.preset));
}
