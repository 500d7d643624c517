import { describe } from 'vitest';
import { runCases } from '../lib.js';
import { cases } from './cases.js';
import { planReplay } from './exercise.js';

describe('exercise 05: replaying the Kafka dead letter topic', () => runCases(cases, planReplay));
