import { cameraDeviceAdvice } from './camera-device-advice';
import type { FailureAdvice, FailureAdviser } from './decoder-source';
import { settingBeside } from './setting-beside';
import type { V4l2InputFormat } from './v4l2-input';

/**
 * Advice on a V4L2 camera's failure, naming the setting that chose it (CAMERA_PATH, a CAPTURE_SOURCES entry, a twin's
 * source) where that is what to change, as the retry line repeats it (inputFormat: the one CAPTURE_V4L2_FORMAT asks
 * for): a camera not plugged in, unplugged, or held by another program is retried until it can be opened, and the line
 * says what to do should it stay so. Undefined for words it does not know: ffmpeg's own say more than a guess.
 */
export function v4l2FailureAdvice(device: string, setting = 'the camera path', inputFormat?: V4l2InputFormat): FailureAdviser {
  const advice = (text: string): FailureAdvice => ({ text, awaitsSettings: false });
  return (lastWords) => {
    if (/No such file or directory/.test(lastWords)) return advice(cameraDeviceAdvice.missing(device, setting));
    if (/No such device/.test(lastWords)) return advice(cameraDeviceAdvice.goneAway(device));
    if (/Device or resource busy/.test(lastWords)) return advice(cameraDeviceAdvice.busy(device, setting));
    if (/Permission denied|Operation not permitted/.test(lastWords)) return advice(cameraDeviceAdvice.notPermitted(device));
    if (/Inappropriate ioctl for device|Not a video capture device/.test(lastWords)) return advice(cameraDeviceAdvice.notACamera(device, setting));
    if (inputFormat && /Cannot find a proper format/.test(lastWords)) return advice(`the camera does not offer ${inputFormat}, which ${settingBeside(setting, 'CAPTURE_V4L2_FORMAT')} asks for: set it to auto, or to one v4l2-ctl --list-formats-ext lists`);
    return undefined;
  };
}
