<?php

// The types a caller should pass, for the IDE stubs (tools/gen-stubs.php).
// The extension converts what it gets with its own rules (a numeric string
// id, an int priority…), so its answers to loose input stay the same; its
// arginfo declares a single type where there is one (src/php/declared.rs:
// `string $identifier`, `int $id`, `?array $data`) and `mixed` where PHP's
// arginfo cannot say more (unions such as `string|int $priority`, class
// names). The stubs tell PhpStorm and PHPStan what to pass. Keys: "Class::method" => [param name => type, 'return' => type,
// 'throws' => [exception short names]]. tools/gen-stubs.php fails when an
// entry names a method or parameter the extension does not have.

$ex = static fn (string ...$names): array => ['throws' => $names];
$invalid = 'InvalidArgumentException';
$db = 'DatabaseException';

return [
    'Seiger\sTask\Facades\sTask::create' => [
        'identifier' => 'string', 'action' => 'string', 'data' => 'array', 'priority' => 'string|int',
        'userId' => '?int', 'unique' => '?string', 'maxAttempts' => '?int', 'startAt' => '\DateTimeInterface|string|int|null',
    ] + $ex('WorkerNotFoundException', $invalid, $db),
    'Seiger\sTask\Facades\sTask::createMany' => $ex('WorkerNotFoundException', $invalid, $db),
    'Seiger\sTask\Facades\sTask::execute' => ['task' => '\Seiger\sTask\Models\sTaskModel|int'] + $ex('TaskNotFoundException', $invalid, $db),
    'Seiger\sTask\Facades\sTask::processPendingTasks' => ['batchSize' => '?int'] + $ex($invalid, $db),
    'Seiger\sTask\Facades\sTask::work' => ['return' => 'array'] + $ex('WorkerStartupException', $invalid, $db),
    'Seiger\sTask\Facades\sTask::getStats' => ['return' => 'array'] + $ex($db),
    'Seiger\sTask\Facades\sTask::cleanOldTasks' => ['days' => '?int'] + $ex($invalid, $db),
    'Seiger\sTask\Facades\sTask::registerWorker' => ['className' => 'string'] + $ex('WorkerClassNotFoundException', 'WorkerInvalidInterfaceException', $db),
    'Seiger\sTask\Facades\sTask::getWorker' => ['identifier' => 'string'] + $ex($db),
    'Seiger\sTask\Facades\sTask::activateWorker' => ['identifier' => 'string'] + $ex($db),
    'Seiger\sTask\Facades\sTask::deactivateWorker' => ['identifier' => 'string'] + $ex($db),
    'Seiger\sTask\Facades\sTask::getPerformanceMetrics' => ['hours' => '?int', 'return' => 'array'] + $ex($invalid, $db),
    'Seiger\sTask\Facades\sTask::getWorkerStats' => ['identifier' => '?string', 'hours' => '?int', 'return' => 'array'] + $ex($invalid, $db),
    'Seiger\sTask\Facades\sTask::getPerformanceAlerts' => ['return' => 'array'] + $ex($db),
    'Seiger\sTask\Facades\sTask::getCacheStats' => ['return' => 'array'],
    'Seiger\sTask\Facades\sTask::clearWorkerCache' => ['identifier' => '?string'],
    'Seiger\sTask\Facades\sTask::cancel' => ['id' => 'int'] + $ex('TaskNotFoundException', $db),
    'Seiger\sTask\Facades\sTask::retry' => ['id' => 'int'] + $ex('TaskNotFoundException', $db),
    'Seiger\sTask\Facades\sTask::progress' => ['id' => 'int', 'return' => 'array'] + $ex('TaskNotFoundException', $db),
    'Seiger\sTask\Facades\sTask::handleHttp' => ['return' => 'array'] + $ex($invalid),
    'Seiger\sTask\Facades\sTask::setLogger' => ['logger' => '?callable'] + $ex($invalid),
    'Seiger\sTask\Facades\sTask::setLogger' => ['logger' => '?callable'] + $ex($invalid),
    'Seiger\sTask\Facades\sTask::configure' => $ex('ConfigurationException'),
    'Seiger\sTask\Facades\sTask::migrate' => $ex($db),
    'Seiger\sTask\Facades\sTask::config' => ['return' => 'array'],
    'Seiger\sTask\Models\sTaskModel::find' => ['id' => 'int'] + $ex($db),
    'Seiger\sTask\Models\sTaskModel::findOrFail' => ['id' => 'int'] + $ex('TaskNotFoundException', $db),
    'Seiger\sTask\Models\sTaskModel::byIdentifier' => ['identifier' => 'string'],
    'Seiger\sTask\Models\sTaskModel::byAction' => ['action' => 'string'],
    'Seiger\sTask\Models\sTaskModel::statusText' => ['status' => 'int|string'],
    'Seiger\sTask\Models\sTaskModel::toArray' => ['return' => 'array'],
    'Seiger\sTask\Models\sTaskModel::jsonSerialize' => ['return' => 'array'],
    'Seiger\sTask\Models\sTaskModel::updateProgress' => ['progress' => 'int'] + $ex('TaskCancelledException', $invalid, $db),
    'Seiger\sTask\Models\sWorker::find' => ['id' => 'int'] + $ex($db),
    'Seiger\sTask\Models\sWorker::byScope' => ['scope' => 'string'],
    'Seiger\sTask\Models\sWorker::getInstance' => ['return' => '?\Seiger\sTask\Contracts\TaskInterface'],
    'Seiger\sTask\Models\sWorker::getDefaultSettings' => ['return' => 'array'],
    'Seiger\sTask\Models\sWorker::toArray' => ['return' => 'array'],
    'Seiger\sTask\Models\sWorker::jsonSerialize' => ['return' => 'array'],
    'Seiger\sTask\Support\Collection::all' => ['return' => 'array'],
    'Seiger\sTask\Support\Collection::toArray' => ['return' => 'array'],
    'Seiger\sTask\Support\Collection::jsonSerialize' => ['return' => 'array'],
    'Seiger\sTask\Support\Query::limit' => ['count' => 'int'],
    'Seiger\sTask\Support\Query::take' => ['count' => 'int'],
    'Seiger\sTask\Support\Query::offset' => ['count' => 'int'],
    'Seiger\sTask\Support\Query::skip' => ['count' => 'int'],
    'Seiger\sTask\Support\Query::byIdentifier' => ['identifier' => 'string'],
    'Seiger\sTask\Support\Query::byAction' => ['action' => 'string'],
    'Seiger\sTask\Support\Query::byScope' => ['scope' => 'string'],
    'Seiger\sTask\Support\Query::find' => ['id' => 'int'],
];
