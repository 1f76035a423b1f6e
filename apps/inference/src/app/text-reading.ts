import { loadVideoTextReader, type ReaderLoading, type RecognitionBackendSelection, type VideoTextReader } from '@iev/detection-pipeline';
import type { CameraListener } from './in-process-capture';
import type { InferenceConfig } from './inference.config';

/**
 * Recognition that a module twin can switch on and off live: the model loads the first time it is switched on
 * (at start-up when the preset reads), and stays loaded when switched off again.
 */
export class TextReading {
  private reader?: VideoTextReader;
  private enabled = false;

  constructor(
    private readonly config: Pick<InferenceConfig, 'recModelPath' | 'recDictPath' | 'recLookalikes' | 'recMinScore' | 'recRefreshMs' | 'recRefreshMaxMs' | 'recRereadMs' | 'recConfirmFrames'> &
      Omit<RecognitionBackendSelection, 'modelPath'> &
      Pick<ReaderLoading, 'onBatchFailed' | 'onBatchRead' | 'batchTimes' | 'detector'>,
  ) {}

  /** Background batches that failed (see VideoTextReader.failedBatches). */
  get failedBatches(): number {
    return this.reader?.failedBatches ?? 0;
  }

  /** The reader while recognition is on. */
  get active(): VideoTextReader | undefined {
    return this.enabled ? this.reader : undefined;
  }

  get modelId(): string | undefined {
    return this.reader?.recognizer.modelId;
  }

  /** Loads the model, if recognition is to be on and it is not loaded yet, without switching anything. */
  async prepare(enabled: boolean): Promise<void> {
    if (enabled && !this.reader) {
      const { recModelPath, recDictPath, recLookalikes, recRefreshMs, recRefreshMaxMs, recRereadMs, recConfirmFrames, recMinScore: minScore, ...selection } = this.config;
      this.reader = await loadVideoTextReader({
        ...selection,
        modelPath: recModelPath,
        dictionaryPath: recDictPath,
        lookalikes: recLookalikes,
        minScore,
        refreshMs: recRefreshMs,
        refreshMaxMs: recRefreshMaxMs,
        rereadMs: recRereadMs,
        confirmFrames: recConfirmFrames,
      });
    }
  }

  /** Switched off, the reader forgets its lines (VideoTextReader.forgetLines): back on, they are new lines, read afresh. */
  async switch(enabled: boolean, minScore = this.config.recMinScore): Promise<void> {
    await this.prepare(enabled);
    if (this.reader) this.reader.minScore = minScore;
    if (this.enabled && !enabled) this.reader?.forgetLines();
    this.enabled = enabled;
  }

  /**
   * The cameras the twin adds and removes (InProcessCameras.watch): telemetry says a removed camera's lines gone, so
   * added again they are new ones, read afresh (VideoTextReader.forgetLines). Forgotten as it is added too: its frames
   * still in detection at its removal, read after it, start its lines again, which kept would come back with it.
   */
  readonly cameras: CameraListener = {
    added: (sourceId) => this.reader?.forgetLines(sourceId),
    removed: (sourceId) => this.reader?.forgetLines(sourceId),
  };

  async dispose(): Promise<void> {
    await this.reader?.dispose();
  }
}
