#pragma once
// Umbrella header: everything shopml offers on the CPU backend.

#include "shopml/version.hpp"
#include "shopml/error.hpp"
#include "shopml/parallel.hpp"
#include "shopml/backend/tags.hpp"
#include "shopml/backend/kernels.hpp"
#include "shopml/backend/cpu.hpp"
#include "shopml/linear_model/logistic_regression.hpp"
#include "shopml/linear_model/saved_head.hpp"
#include "shopml/metrics/classification.hpp"
#include "shopml/metrics/classification_report.hpp"
#include "shopml/metrics/confusion_matrix.hpp"
#include "shopml/metrics/log_loss.hpp"
#include "shopml/metrics/roc_auc.hpp"
#include "shopml/model_selection/train_test_split.hpp"
