<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Support\Facades\DB;

/*
 * Rows like the ones Evolution CMS 3's installer seeds: permission groups
 * with explicit ids (which leaves PostgreSQL's sequence behind, as on a real
 * install), permissions without timestamps, and role grants. Role 1 is the
 * Administrator (everything), role 2 an editor with a few permissions.
 * A small sample, not Evolution's full list.
 */
return new class extends Migration
{
    private const GROUPS = [
        1 => ['General', 'page_data_general'],
        2 => ['Content Management', 'role_content_management'],
        3 => ['Config Management', 'role_config_management'],
    ];

    private const PERMISSIONS = [
        ['frames', 'Request manager frames', 'role_frames', 1, 1],
        ['home', 'Request manager intro page', 'role_home', 1, 1],
        ['edit_document', 'Edit a Resource', 'role_edit_doc', 2, 0],
        ['save_document', 'Save Resources', 'role_save_doc', 2, 0],
        ['empty_cache', "Empty the site's cache", 'role_cache_refresh', 2, 0],
        ['settings', 'Change site settings', 'role_edit_settings', 3, 0],
    ];

    private const EDITOR = ['frames', 'home', 'edit_document', 'save_document', 'empty_cache'];

    public function up(): void
    {
        $groups = [];
        foreach (self::GROUPS as $id => [$name, $langKey]) {
            $groups[] = ['id' => $id, 'name' => $name, 'lang_key' => $langKey];
        }
        DB::table('permissions_groups')->insert($groups);

        $permissions = [];
        $grants = [];
        foreach (self::PERMISSIONS as [$key, $name, $langKey, $group, $disabled]) {
            $permissions[] = ['name' => $name, 'key' => $key, 'lang_key' => $langKey, 'group_id' => $group, 'disabled' => $disabled];
            $grants[] = ['permission' => $key, 'role_id' => 1];
            if (in_array($key, self::EDITOR, true)) {
                $grants[] = ['permission' => $key, 'role_id' => 2];
            }
        }
        DB::table('permissions')->insert($permissions);
        DB::table('role_permissions')->insert($grants);
    }

    public function down(): void
    {
        DB::table('role_permissions')->delete();
        DB::table('permissions')->delete();
        DB::table('permissions_groups')->delete();
    }
};
