import { describe } from 'vitest';
import { runCases } from '../lib.js';
import { cases } from './cases.js';
import { compensationsFor } from './exercise.js';

describe('exercise 03: the compensations of a saga', () => runCases(cases, compensationsFor));
