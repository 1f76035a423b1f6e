import type { CharacterSet } from './character-set';

export interface ReadText {
  text: string;
  /** Mean probability of the characters kept; 0 when nothing was read. */
  score: number;
}

/**
 * CTC greedy decoding of one line, as PaddleOCR's CTCLabelDecode: the most probable class at each time step;
 * a class repeated in consecutive steps counts once; blanks (class 0) are dropped. `probabilities` holds
 * `timeSteps` rows of `classes` softmax outputs starting at `offset`: pass the output's own class count (its last
 * dimension), so a model and dictionary that disagree cannot misalign the rows. A class past the characters is no
 * character.
 */
export function decodeCtc(probabilities: Float32Array, offset: number, timeSteps: number, characters: CharacterSet, classes = characters.classCount): ReadText {
  const names = characters.characters;
  let text = '';
  let scoreSum = 0;
  let kept = 0;
  let previous = -1;
  for (let step = 0; step < timeSteps; step++) {
    const row = offset + step * classes;
    let best = 0;
    let bestProbability = probabilities[row];
    for (let c = 1; c < classes; c++) {
      const probability = probabilities[row + c];
      if (probability > bestProbability) {
        best = c;
        bestProbability = probability;
      }
    }
    if (best !== 0 && best !== previous && best < names.length) {
      text += names[best];
      scoreSum += bestProbability;
      kept++;
    }
    previous = best;
  }
  return { text, score: kept === 0 ? 0 : scoreSum / kept };
}
